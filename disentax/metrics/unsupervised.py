"""disentanglement_lib's unsupervised scores: Gaussian TC, Wasserstein correlation, mean code MI."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from disentax.errors import UserError
from disentax.metrics import information, inputs
from disentax.metrics.numerics import per_member, tree_sum


def unsupervised(codes, *, num_bins: int = 20):
    """Unsupervised scores of `codes [N, L] float` (no factors) -> dict of four scalars.

    With Σ the sample covariance of the codes (ddof = 1) and D = diag(Σ):
    - gaussian_total_correlation = ½ (Σ_i log Σ_ii − log |det Σ|), the KL divergence from
      N(0, Σ) to N(0, D);
    - gaussian_wasserstein_correlation = 2 tr Σ − 2 tr (D Σ)^{1/2}, computed as
      2 tr Σ − 2 Σ_j √λ_j with λ the eigenvalues of D^{1/2} Σ D^{1/2} (similar to D Σ), taken
      as singular values of the centred codes scaled by D^{1/2} / √(N − 1);
    - gaussian_wasserstein_correlation_norm = gaussian_wasserstein_correlation / tr Σ;
    - mutual_info_score = Σ_{i≠j} I(z̃_i; z̃_j) / (L² − L), with z̃ =
      `histogram_discretize(codes, num_bins)` and I = `discrete_mutual_info` (nats).
    This is disentanglement_lib's `unsupervised_metrics`, except that constant codes (and codes
    whose float32 variance underflows to 0) are left out of the total correlation (0 when every
    code is constant; the reference gives NaN), which is +inf for collinear codes as in the
    reference, and that the normalised Wasserstein score is 0 (not NaN) when every code is
    constant. Codes with NaN or Inf raise `UserError` (when concrete). Jittable (`num_bins`
    static) and vmappable over a leading population axis.
    """
    inputs.positive_int("num_bins", num_bins)
    codes = inputs.codes_matrix("codes", codes)
    if codes.shape[0] < 2:
        raise UserError(
            f"unsupervised needs at least 2 samples N, got codes of shape {codes.shape}"
        )
    if codes.shape[1] < 2:
        raise UserError(
            f"unsupervised needs at least 2 code dimensions L, got codes of shape {codes.shape}"
        )
    return _unsupervised(codes, num_bins)


@functools.partial(jax.jit, static_argnums=1)
def _unsupervised(codes, num_bins):
    return per_member(_unsupervised_body, num_bins)(codes)


def _unsupervised_body(codes, num_bins):
    n, num_codes = codes.shape
    constant = jnp.max(codes, axis=0) == jnp.min(codes, axis=0)
    centred = jnp.where(constant, 0.0, codes - (tree_sum(codes.T) / n)[None, :])  # exact 0 var
    # Σ_ij by a fixed-order sum over samples, so that vmap and jit round identically.
    cov = tree_sum(centred.T[:, None, :] * centred.T[None, :, :]) / (n - 1)
    variances = jnp.diagonal(cov)
    trace = tree_sum(variances)

    # constant codes are independent of the rest: left out, as rows and columns of the identity
    flat = constant | (variances <= 0)  # a variance can also underflow to 0 in float32
    informative = jnp.where(flat[:, None] | flat[None, :], jnp.eye(num_codes), cov)
    log_variances = jnp.log(jnp.where(flat, 1.0, variances))
    total_correlation = 0.5 * (tree_sum(log_variances) - jnp.linalg.slogdet(informative)[1])

    # √λ(D^{1/2} Σ D^{1/2}) are the singular values of Z D^{1/2} / √(N − 1), Z the centred codes:
    # factoring the data keeps the small ones accurate in float32, where eigvalsh would not. Those
    # of its QR factor R [L, L] (Householder) are the same, and LAPACK's SVD of the tall [N, L]
    # matrix takes several times longer than QR then SVD.
    scaled = centred * (jnp.sqrt(variances) / jnp.sqrt(n - 1.0))[None, :]
    roots = jnp.linalg.svd(jnp.linalg.qr(scaled, mode="r"), compute_uv=False)
    wasserstein = 2.0 * trace - 2.0 * tree_sum(roots)
    wasserstein_norm = jnp.where(trace > 0, wasserstein / jnp.where(trace > 0, trace, 1.0), 0.0)

    binned = information.binned_labels(codes, num_bins)
    rows, cols = np.triu_indices(num_codes, k=1)  # I(z̃_i; z̃_j) = I(z̃_j; z̃_i): each pair once
    upper = information.paired_mutual_info(binned, num_bins, binned, num_bins, rows, cols)
    off_diagonal = (
        jnp.zeros((num_codes, num_codes)).at[rows, cols].set(upper).at[cols, rows].set(upper)
    )
    mutual_info = tree_sum(off_diagonal.reshape(-1)) / (num_codes**2 - num_codes)
    return {
        "gaussian_total_correlation": total_correlation,
        "gaussian_wasserstein_correlation": wasserstein,
        "gaussian_wasserstein_correlation_norm": wasserstein_norm,
        "mutual_info_score": mutual_info,
    }
