"""Unsupervised Disentanglement Ranking (Duan et al. 2020) as computed by disentanglement_lib."""

import functools
import itertools
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from disentax.errors import UserError
from disentax.metrics import inputs

CORRELATIONS = ("lasso", "spearman")


def udr(
    representations,
    kl=None,
    *,
    correlation: str = "lasso",
    filter_low_kl: bool = True,
    kl_filter_threshold: float = 0.01,
    alpha: float = 0.1,
    lasso_sweeps: int = 200,
    mode: str = "jax",
):
    """UDR of a population: `representations [M, N, L]` (M models, the same N inputs), optional
    per-latent mean KL `kl [M, L]` (None: all latents informative) -> dict.

    Each model's codes are standardised (ddof = 0; a constant code stays 0) and latents with
    KL ≤ 0.01 are zeroed. For each ordered pair i ≠ j, R_ij `[L, L]` is |W| of the Lasso
    regression of model j's codes on model i's, min_W (1/2N)‖Z_j − Z_i W‖² + α‖W‖₁ per target
    (`correlation="lasso"`, α = `alpha`), or |Spearman ρ(z_i,a, z_j,b)| (`"spearman"`; average
    ranks for ties). With rows and columns restricted to latents with KL > `kl_filter_threshold`
    when `filter_low_kl`, the pair score is d_ij = ½ (mean_b max_a R_ab² / Σ_a R_ab +
    mean_a max_b R_ab² / Σ_b R_ab) (0/0 counts as 0), and model_scores_i = median_{j≠i} d_ji.
    Returns {"model_scores" [M], "pairwise_disentanglement_scores" [M, M] (diagonal 0),
    "raw_correlations" [M, M, L, L]}, as disentanglement_lib's `compute_udr_sklearn` on the
    sampled representations.

    `mode="jax"` (default) solves the Lasso by `lasso_sweeps` cyclic coordinate-descent sweeps
    from W = 0 (sklearn's algorithm, run for a fixed count instead of to its dual-gap tolerance
    1e-4); jittable (keywords static) and vmappable. `mode="reference"` calls
    `sklearn.linear_model.Lasso(alpha)` and `scipy.stats.spearmanr` as disentanglement_lib does
    (NumPy, not jittable). Deviations from the reference, where it is undefined: no informative
    latent in a pair gives d_ij = 0 (NaN there), and a constant code has Spearman ρ = 0 (NaN
    there, which zeroes every score of its row and column).
    """
    representations = inputs.as_array("representations", representations)
    if representations.ndim != 3:
        raise UserError(
            f"representations must be [M models, N samples, L latents], got shape "
            f"{tuple(representations.shape)}"
        )
    num_models, n, num_latents = representations.shape
    if num_models < 2 or n < 2 or num_latents < 1:
        raise UserError(
            f"udr needs at least 2 models, 2 samples and one latent, got representations of "
            f"shape {tuple(representations.shape)}"
        )
    kl = jnp.ones((num_models, num_latents)) if kl is None else inputs.as_array("kl", kl)
    if kl.shape != (num_models, num_latents):
        raise UserError(
            f"kl must be [M, L] = {(num_models, num_latents)}, got shape {tuple(kl.shape)}"
        )
    if correlation not in CORRELATIONS:
        raise UserError(f"correlation must be one of {CORRELATIONS}, got {correlation!r}")
    if not isinstance(lasso_sweeps, int) or lasso_sweeps < 1:
        raise UserError(f"lasso_sweeps must be a positive Python int, got {lasso_sweeps!r}")
    if not jnp.issubdtype(representations.dtype, jnp.floating):
        representations = representations.astype(jnp.float32)
    options = (correlation, bool(filter_low_kl), float(kl_filter_threshold), float(alpha))
    if mode == "reference":
        return _udr_reference(np.asarray(representations), np.asarray(kl), *options)
    if mode != "jax":
        raise UserError(f"mode must be 'jax' or 'reference', got {mode!r}")
    return _udr(representations, kl.astype(representations.dtype), *options, lasso_sweeps)


def _standardise(z):
    """(z − mean) / std per column (ddof = 0), std 0 replaced by 1 as sklearn's StandardScaler."""
    mean = jnp.mean(z, axis=0)
    std = jnp.sqrt(jnp.mean(jnp.square(z - mean), axis=0))
    return (z - mean) / jnp.where(std > 0, std, 1.0)


def _ranks(z):
    """Average ranks (1-based, ties share their mean rank) of each column of `[N, L]`."""

    def column(x):
        s = jnp.sort(x)
        low = jnp.searchsorted(s, x, side="left")
        high = jnp.searchsorted(s, x, side="right")
        return (low + high + 1) / 2.0

    return jax.vmap(column, in_axes=1, out_axes=1)(z).astype(z.dtype)


def lasso_coordinate_descent(gram, cross, alpha, sweeps: int):
    """Lasso weights `[L_in, L_out]` from gram = XᵀX/N `[L_in, L_in]` and cross = XᵀY/N
    `[L_in, L_out]` of centred X, Y: `sweeps` cyclic passes of
    w_f ← S_α(cross_f − Σ_{g≠f} gram_fg w_g) / gram_ff, S_α the soft threshold, from w = 0
    (w_f = 0 where gram_ff = 0), minimising (1/2N)‖Y − XW‖² + α‖W‖₁ for each output column."""
    diagonal = jnp.diagonal(gram)

    def coordinate(f, w):
        rho = cross[f] - gram[f] @ w + diagonal[f] * w[f]
        shrunk = jnp.sign(rho) * jnp.maximum(jnp.abs(rho) - alpha, 0.0)
        return w.at[f].set(jnp.where(diagonal[f] > 0, shrunk / jnp.maximum(diagonal[f], 1e-30), 0))

    def sweep(_, w):
        return jax.lax.fori_loop(0, gram.shape[0], coordinate, w)

    return jax.lax.fori_loop(0, sweeps, sweep, jnp.zeros_like(cross))


def relative_strength(corr, row_mask, col_mask):
    """½ (mean_{b∈cols} max_{a∈rows} R_ab² / Σ_{a∈rows} R_ab + mean_{a∈rows} max_{b∈cols} R_ab² /
    Σ_{b∈cols} R_ab) of a non-negative `[A, B]` matrix R, 0/0 terms counting 0; 0 if a mask is
    empty."""
    r = jnp.where(row_mask[:, None] & col_mask[None, :], corr, 0.0)

    def score(r, mask):
        top, total = jnp.max(r, axis=0), jnp.sum(r, axis=0)
        ratio = jnp.where(total > 0, jnp.square(top) / jnp.where(total > 0, total, 1.0), 0.0)
        return jnp.sum(jnp.where(mask, ratio, 0.0)) / jnp.maximum(jnp.sum(mask), 1)

    both = jnp.any(row_mask) & jnp.any(col_mask)
    return jnp.where(both, (score(r, col_mask) + score(r.T, row_mask)) / 2.0, 0.0)


def _others(num_models):
    """`[M, M−1]`: for each model i, the indices j ≠ i in order."""
    return np.array([[j for j in range(num_models) if j != i] for i in range(num_models)])


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5, 6))
def _udr(representations, kl, correlation, filter_low_kl, threshold, alpha, sweeps):
    num_models, n, _ = representations.shape
    z = jax.vmap(_standardise)(representations) * (kl > 0.01)[:, None, :]
    if correlation == "lasso":
        cross = jnp.einsum("mna,pnb->mpab", z, z) / n  # [M, M, L, L]: Z_iᵀ Z_j / N
        gram = jnp.broadcast_to(
            jnp.diagonal(cross, axis1=0, axis2=1).transpose(2, 0, 1)[:, None], cross.shape
        )
        solve = jax.vmap(jax.vmap(lasso_coordinate_descent, (0, 0, None, None)), (0, 0, None, None))
        corr = jnp.abs(solve(gram, cross, alpha, sweeps))
    else:
        ranks = jax.vmap(_standardise)(jax.vmap(_ranks)(z))
        corr = jnp.abs(jnp.einsum("mna,pnb->mpab", ranks, ranks) / n)
    off_diagonal = ~jnp.eye(num_models, dtype=bool)
    corr = jnp.where(off_diagonal[:, :, None, None], corr, 0.0)

    mask = kl > threshold if filter_low_kl else jnp.ones(kl.shape, bool)
    pair = jax.vmap(jax.vmap(relative_strength, (0, None, 0)), (0, 0, None))
    scores = jnp.where(off_diagonal, pair(corr, mask, mask), 0.0)
    model_scores = jnp.median(scores.T[jnp.arange(num_models)[:, None], _others(num_models)], 1)
    return {
        "model_scores": model_scores,
        "pairwise_disentanglement_scores": scores,
        "raw_correlations": corr,
    }


def _udr_reference(representations, kl, correlation, filter_low_kl, threshold, alpha):
    """disentanglement_lib's `compute_udr_sklearn` from the sampled representations (NumPy)."""
    from scipy import stats
    from sklearn import linear_model, preprocessing

    num_models, _, num_latents = representations.shape
    reps = [
        preprocessing.StandardScaler().fit_transform(r.astype(np.float64)) * (k > 0.01)
        for r, k in zip(representations, kl, strict=True)
    ]
    masks = [k > threshold for k in kl]
    corr_all = np.zeros((num_models, num_models, num_latents, num_latents))
    scores = np.zeros((num_models, num_models))
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        for i, j in itertools.permutations(range(num_models), 2):
            if correlation == "lasso":
                corr = np.abs(linear_model.Lasso(alpha=alpha).fit(reps[i], reps[j]).coef_).T
            else:
                corr = np.array(
                    [[abs(stats.spearmanr(a, b)[0]) for b in reps[j].T] for a in reps[i].T]
                )
            corr_all[i, j] = corr
            if filter_low_kl:
                corr = corr[masks[i]][:, masks[j]]
            if corr.size:
                top0 = np.square(np.max(corr, axis=0)) / np.sum(corr, axis=0)
                top1 = np.square(np.max(corr, axis=1)) / np.sum(corr, axis=1)
                scores[i, j] = (np.mean(np.nan_to_num(top0)) + np.mean(np.nan_to_num(top1))) / 2
    model_scores = np.array([np.median(np.delete(scores[:, i], i)) for i in range(num_models)])
    return {
        "model_scores": model_scores,
        "pairwise_disentanglement_scores": scores,
        "raw_correlations": corr_all,
    }
