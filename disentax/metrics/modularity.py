"""Modularity (Ridgeway & Mozer 2018) from disentanglement_lib's discretised mutual information."""

import functools

import jax
import jax.numpy as jnp

from disentax.errors import UserError
from disentax.metrics import information, inputs
from disentax.metrics.numerics import per_member, tree_sum


def modularity_from_mutual_info(mutual_info):
    """Modularity of an MI matrix: `[L codes, K factors] -> scalar`.

    With m_i· the MI of code i with each factor and K the number of factors,
    modularity = (1/L) Σ_i [1 − (Σ_k m_ik² − max_k m_ik²) / (max_k m_ik² · (K − 1))], where a code
    with max_k m_ik = 0 scores 0. This is disentanglement_lib's `modularity`, except for K = 1,
    where it divides 0 by 0: here a single-factor code with non-zero MI scores 1.
    """
    mutual_info = inputs.matrix("mutual_info", mutual_info)
    if mutual_info.shape[0] < 1 or mutual_info.shape[1] < 1:
        raise UserError(
            f"mutual_info needs at least one code and one factor, got shape {mutual_info.shape}"
        )
    if not jnp.issubdtype(mutual_info.dtype, jnp.floating):
        mutual_info = mutual_info.astype(jnp.float32)
    return _modularity_from_mi(mutual_info)


@jax.jit
def _modularity_from_mi(mutual_info):
    squared = jnp.square(mutual_info)
    top = jnp.max(squared, axis=1)
    numerator = tree_sum(squared) - top
    denominator = top * (squared.shape[1] - 1.0)
    delta = jnp.where(denominator > 0, numerator / jnp.where(denominator > 0, denominator, 1.0), 0)
    score = jnp.where(top == 0, 0.0, 1.0 - delta)
    return tree_sum(score) / squared.shape[0]


def modularity(codes, factors, *, num_bins: int = 20, discretize_factors: int | None = None):
    """Modularity: `codes [N, L] float, factors [N, K] int -> {"modularity": scalar}`.

    modularity = `modularity_from_mutual_info(m)` with m_ik = I(z̃_i; v_k), z̃ =
    `histogram_discretize(codes, num_bins)` and I = `discrete_mutual_info` (nats), as in
    disentanglement_lib's `compute_modularity_explicitness` (explicitness is not computed).
    Jittable (`num_bins` static) and vmappable over a leading population axis. Factors are
    discrete, or binned by `discretize_factors=B`, as in `mig`.
    """
    codes, factors = inputs.sample_inputs(
        "modularity", codes, factors, discretize_factors=discretize_factors, num_bins=num_bins
    )
    return _modularity(codes, factors, num_bins, information.label_space(factors))


@functools.partial(jax.jit, static_argnums=(2, 3))
def _modularity(codes, factors, num_bins, factor_space):
    return per_member(_modularity_body, num_bins, factor_space)(codes, factors)


def _modularity_body(codes, factors, num_bins, factor_space):
    mi, _ = information.binned_mutual_info(codes, num_bins, factors, factor_space)
    return {"modularity": _modularity_from_mi(mi)}
