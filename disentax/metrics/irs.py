"""Interventional Robustness Score (Suter et al. 2019) as computed by disentanglement_lib."""

import functools

import jax
import jax.numpy as jnp
from jax import lax

from disentax.errors import UserError
from disentax.metrics.mig import (
    _codes_and_factors,
    _tree_sum,
    histogram_discretize,
)


def irs(codes, factors, *, diff_quantile: float = 0.99, num_bins: int = 20):
    """IRS: `codes [N, L] float, factors [N, K] -> {"irs": scalar, "num_active_dims": int32}`.

    Factors are binned, g̃ = `histogram_discretize(factors, num_bins)` (disentanglement_lib's
    `irs.gin`). For an active code z_i (max z_i > min z_i) and factor k, with G_k the non-empty
    bins of g̃_k, D_ik = (1/|G_k|) Σ_{g ∈ G_k} Q_q(|z_i − E[z_i | g̃_k = g]| over {n : g̃_k = g}),
    where Q_q is numpy's linearly interpolated quantile at q = `diff_quantile`, and
    M_i = max_n |z_i − mean(z_i)|. Then s_i = max_k (1 − D_ik / M_i) and
    IRS = Σ_i M_i s_i / Σ_i M_i over the active codes, 0 when none is active. This is
    disentanglement_lib's `compute_irs`, except that a code counts as constant when its min equals
    its max (numpy tests var > 0, which float rounding can make positive for a constant column).
    Jittable (`num_bins` and `diff_quantile` static) and vmappable over a leading population axis;
    inactive codes are masked, and `num_active_dims` counts the active ones (disentanglement_lib
    reports the sum of the active codes' values there, a bug).
    """
    codes, factors = _codes_and_factors("irs", codes, factors, num_bins)
    if not isinstance(diff_quantile, int | float) or not 0.0 <= diff_quantile <= 1.0:
        raise UserError(
            f"diff_quantile must be a Python float in [0, 1] (static under jit), "
            f"got {diff_quantile!r}"
        )
    return _irs(codes, histogram_discretize(factors, num_bins), float(diff_quantile), num_bins)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _irs(codes, binned, q, num_bins):
    n = codes.shape[0]
    # one_hot[k, b, n]: sample n lies in bin b + 1 of factor k.
    one_hot = (binned.T[:, None, :] == jnp.arange(1, num_bins + 1)[None, :, None]).astype(
        codes.dtype
    )
    counts = _tree_sum(one_hot)  # [K, B], exact small integers

    def deviation(z, bins, hot, count):
        """D for one code z [N] and one factor's bins [N], one-hot [B, N], counts [B]."""
        cond_mean = _tree_sum(hot * z) / jnp.maximum(count, 1.0)  # E[z | bin]
        diffs = jnp.abs(z - cond_mean[bins - 1])
        _, sorted_diffs = lax.sort((bins, diffs), num_keys=2)  # grouped by bin, then ascending
        start = jnp.cumsum(count) - count
        position = q * jnp.maximum(count - 1.0, 0.0)
        lower = jnp.floor(position)
        frac = position - lower
        upper = jnp.minimum(lower + 1.0, jnp.maximum(count - 1.0, 0.0))
        a = sorted_diffs[jnp.clip((start + lower).astype(jnp.int32), 0, n - 1)]
        b = sorted_diffs[jnp.clip((start + upper).astype(jnp.int32), 0, n - 1)]
        quantile = jnp.where(frac >= 0.5, b - (b - a) * (1.0 - frac), a + (b - a) * frac)
        occupied = count > 0
        return _tree_sum(jnp.where(occupied, quantile, 0.0)) / jnp.sum(occupied)

    over_factors = jax.vmap(deviation, in_axes=(None, 1, 0, 0))
    cum = jax.vmap(over_factors, in_axes=(1, None, None, None))(codes, binned, one_hot, counts)

    centred = jnp.abs(codes - _tree_sum(codes.T)[None, :] / n)
    max_dev = jnp.max(centred, axis=0)  # [L]
    active = jnp.max(codes, axis=0) > jnp.min(codes, axis=0)
    normalised = cum / jnp.where(active, max_dev, 1.0)[:, None]
    scores = jnp.max(1.0 - normalised, axis=1)
    weights = jnp.where(active, max_dev, 0.0)
    total = _tree_sum(weights)
    value = jnp.where(total > 0, _tree_sum(weights * scores) / jnp.where(total > 0, total, 1.0), 0)
    return {"irs": value, "num_active_dims": jnp.sum(active).astype(jnp.int32)}
