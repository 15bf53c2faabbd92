"""Mean vs sampled representations of a Gaussian encoder, full and truncated (passive variables
removed): Gaussian total correlation and average pairwise mutual information."""

import jax
import jax.numpy as jnp

from disentax.analysis.activity import variable_types
from disentax.errors import UserError
from disentax.metrics.information import discrete_mutual_info, histogram_discretize
from disentax.metrics.unsupervised import unsupervised
from disentax.models.latents import gaussian_sample


def sampled(mu_NxL, logvar_NxL, rng):
    """The sampled representation z = μ + exp(logvar / 2)·ε, ε ~ N(0, I) from `rng`: `[N, L]`."""
    eps = jax.random.normal(rng, jnp.shape(mu_NxL), jnp.result_type(mu_NxL, jnp.float32))
    return gaussian_sample(mu_NxL, logvar_NxL, eps)


def truncate(codes_NxL, keep_L):
    """The codes with the dimensions outside `keep [L] bool` set to 0: `[N, L]`, a static shape.

    A constant column is what dropping the dimension amounts to for the scores here: the Gaussian
    total correlation and the mutual information below leave it out, and a classifier cannot use
    it (an L2-regularised logistic regression gives it weight 0, a tree never splits on it).
    """
    return jnp.where(keep_L, codes_NxL, 0.0)


def total_correlation(codes_NxL, keep_L=None):
    """Gaussian total correlation of the kept dimensions: `[N, L], keep [L] bool -> scalar`.

    TC = ½ (Σ_{j∈S} log Σ_jj − log det Σ_SS) with Σ the sample covariance (ddof = 1) and S the
    kept dimensions (all by default): `metrics.unsupervised`'s "gaussian_total_correlation" of
    `truncate(codes, keep)`, which leaves constant codes out (TC of the codes with the other
    columns deleted). NaN when fewer than 2 dimensions are kept (the paper's code reports no
    score). Jittable and vmappable over a leading population axis.
    """
    codes_NxL, keep_L = _codes_and_keep(codes_NxL, keep_L)
    tc = unsupervised(truncate(codes_NxL, keep_L))["gaussian_total_correlation"]
    return jnp.where(jnp.sum(keep_L) >= 2, tc, jnp.nan)


def mutual_information(codes_NxL, keep_L=None, *, num_bins: int = 20):
    """Average pairwise mutual information (nats) of the kept dimensions: `[N, L] -> scalar`.

    MI = Σ_{i≠j ∈ S} I(z̃_i; z̃_j) / (|S|² − |S|), z̃ = `histogram_discretize(codes, num_bins)`,
    I = `discrete_mutual_info`; S all dimensions by default, where it equals
    `metrics.unsupervised`'s "mutual_info_score" (the paper's code: disentanglement_lib's
    `discrete_mutual_info` of the kept rows, diagonal zeroed, over num_codes² − num_codes).
    NaN when fewer than 2 dimensions are kept. Jittable (`num_bins` static) and vmappable.
    """
    codes_NxL, keep_L = _codes_and_keep(codes_NxL, keep_L)
    binned = histogram_discretize(codes_NxL, num_bins)
    mi = discrete_mutual_info(binned, binned)
    pairs = keep_L[:, None] & keep_L[None, :] & ~jnp.eye(keep_L.shape[0], dtype=bool)
    count = jnp.sum(pairs)
    return jnp.where(count > 0, jnp.sum(jnp.where(pairs, mi, 0.0)) / jnp.maximum(count, 1), jnp.nan)


def mean_vs_sampled(
    mu_NxL,
    logvar_NxL,
    rng,
    *,
    num_bins: int = 20,
    var_threshold: float = 0.1,
    mean_error_range: float = 0.1,
):
    """The "Be More Active!" comparison of one model from its encoder outputs on N inputs:
    `mu [N, L], logvar [N, L], rng -> dict` of scalars and the passive mask.

    The variables are typed by `variable_types(logvar)`; the mean representation is μ, the
    sampled one `sampled(μ, logvar, rng)`; "truncated" keeps the active and mixed variables
    (passive ones removed). Keys: "passive" (the mask, bool `[L]`); "num_passive",
    "num_mixed", "num_active"; "tc/<rep>" (`total_correlation`) and "mi/<rep>"
    (`mutual_information`) for <rep> in mean, sampled, mean_truncated, sampled_truncated;
    "tc_gap" = tc/mean − tc/sampled, and "tc_gap_truncated" likewise after truncation (NaN
    when fewer than 2 variables are left). The paper's code classifies on one sample of 10,000
    inputs and scores on another; here one sample serves both. Jittable and vmappable over a
    leading population axis (the passive set is a mask, so shapes stay static).
    """
    mu_NxL, logvar_NxL = jnp.asarray(mu_NxL), jnp.asarray(logvar_NxL)
    if mu_NxL.shape != logvar_NxL.shape:
        raise UserError(
            f"mu and logvar must have the same shape [N, L], got {mu_NxL.shape} and "
            f"{logvar_NxL.shape}"
        )
    types = variable_types(
        logvar_NxL, var_threshold=var_threshold, mean_error_range=mean_error_range
    )
    reps = {"mean": mu_NxL, "sampled": sampled(mu_NxL, logvar_NxL, rng)}
    everything = jnp.ones(mu_NxL.shape[1], bool)
    out = {"passive": types["passive"]}
    out.update({f"num_{t}": jnp.sum(types[t]) for t in ("passive", "mixed", "active")})
    for name, codes in reps.items():
        for suffix, keep in (("", everything), ("_truncated", ~types["passive"])):
            out[f"tc/{name}{suffix}"] = total_correlation(codes, keep)
            out[f"mi/{name}{suffix}"] = mutual_information(codes, keep, num_bins=num_bins)
    out["tc_gap"] = out["tc/mean"] - out["tc/sampled"]
    out["tc_gap_truncated"] = out["tc/mean_truncated"] - out["tc/sampled_truncated"]
    return out


def _codes_and_keep(codes_NxL, keep_L):
    codes_NxL = jnp.asarray(codes_NxL)
    if codes_NxL.ndim != 2:
        raise UserError(f"codes must be 2-D [N, L], got shape {tuple(codes_NxL.shape)}")
    if keep_L is None:
        return codes_NxL, jnp.ones(codes_NxL.shape[1], bool)
    keep_L = jnp.asarray(keep_L)
    if keep_L.shape != codes_NxL.shape[1:] or keep_L.dtype != bool:
        raise UserError(
            f"keep must be a bool mask of shape ({codes_NxL.shape[1]},) (one entry per code "
            f"dimension), got {keep_L.dtype} of shape {tuple(keep_L.shape)}"
        )
    return codes_NxL, keep_L
