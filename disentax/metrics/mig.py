"""Mutual Information Gap (Chen et al. 2018) with disentanglement_lib's histogram discretiser."""

import functools

import jax
import jax.numpy as jnp

from disentax.metrics import information, inputs
from disentax.metrics.numerics import per_member, tree_sum


def mig(codes, factors, *, num_bins: int = 20, discretize_factors: int | None = None):
    """Mutual Information Gap: `codes [N, L] float, factors [N, K] int -> {"mig": scalar}`.

    MIG = (1/|K⁺|) Σ_{k ∈ K⁺} (I_(1),k − I_(2),k) / H(v_k), where I_(1),k ≥ I_(2),k are the two
    largest I(z̃_j; v_k) over codes j (not clipped), z̃ = `histogram_discretize(codes, num_bins)`,
    and I, H are `discrete_mutual_info` and `discrete_entropy` (nats; all three in
    `metrics.information`). This is disentanglement_lib's `_compute_mig`, except for constant
    factors (H(v_k) = 0), where it divides by zero: here they are left out,
    K⁺ = {k : H(v_k) > 0}, and MIG = 0 when every factor is constant.
    Jittable (`num_bins` static) and vmappable over a leading population axis.

    Factors are discrete: an integer dtype, or floats whose values are all integers (checked
    where concrete; under jit/vmap only an integer dtype). Other factors are a `UserError`
    unless `discretize_factors=B`, which bins each factor into B equal-width bins
    (`histogram_discretize`) first (`inputs.sample_inputs`).
    """
    codes, factors = inputs.sample_inputs(
        "mig", codes, factors, min_codes=2, discretize_factors=discretize_factors, num_bins=num_bins
    )
    return _mig(codes, factors, num_bins, information.label_space(factors))


@functools.partial(jax.jit, static_argnums=(2, 3))
def _mig(codes, factors, num_bins, factor_space):
    return per_member(_mig_body, num_bins, factor_space)(codes, factors)


def _mig_body(codes, factors, num_bins, factor_space):
    mi, entropy = information.binned_mutual_info(codes, num_bins, factors, factor_space)
    top = jnp.sort(mi, axis=0)
    gap = top[-1] - top[-2]
    informative = entropy > 0
    normalised = jnp.where(informative, gap / jnp.where(informative, entropy, 1.0), 0.0)
    return {"mig": tree_sum(normalised) / jnp.maximum(jnp.sum(informative), 1)}
