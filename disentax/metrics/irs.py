"""Interventional Robustness Score (Suter et al. 2019) as computed by disentanglement_lib."""

import functools

import jax
import jax.numpy as jnp
from jax import lax

from disentax.errors import UserError
from disentax.metrics.mig import _codes_and_factors, _per_member, _tree_sum, histogram_discretize
from disentax.metrics.ordering import from_order_keys, order_keys


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


# Largest (bin, rank) sort key packed into one int32; beyond it the sort takes a key pair.
_INT32_KEYS = 2**31 - 1


@functools.partial(jax.jit, static_argnums=(2, 3))
def _irs(codes, binned, q, num_bins):
    return _per_member(_irs_body, q, num_bins)(codes, binned)


def _irs_body(codes, binned, q, num_bins):
    n = codes.shape[0]
    hot = (binned.T[:, None, :] == jnp.arange(1, num_bins + 1)[None, :, None]).astype(codes.dtype)
    count = _tree_sum(hot)  # [K, B]: bin b + 1 of factor k holds count[k, b] samples
    cond_mean = _tree_sum(hot * codes.T[:, None, None, :]) / jnp.maximum(count, 1.0)  # [L, K, B]

    # Per code and factor, the samples grouped by bin and ascending in z within each bin.
    z, start = _grouped_by_bin(codes, binned - 1, num_bins), jnp.cumsum(count, axis=1) - count
    start, count = start.astype(jnp.int32)[None], count.astype(jnp.int32)[None]  # [1, K, B]
    # |z − E[z | bin]| falls, then rises along a bin: the q-quantile's order statistics merge
    # the part below the mean (read backwards) with the part above it.
    below = _count_below(z, start, start + count, cond_mean) - start
    position = q * jnp.maximum(count - 1.0, 0.0)
    lower = jnp.floor(position)
    frac = position - lower
    upper = jnp.minimum(lower + 1.0, jnp.maximum(count - 1.0, 0.0))
    a = _merged_order_statistic(z, start, below, count, cond_mean, lower.astype(jnp.int32))
    b = _merged_order_statistic(z, start, below, count, cond_mean, upper.astype(jnp.int32))
    quantile = jnp.where(frac >= 0.5, b - (b - a) * (1.0 - frac), a + (b - a) * frac)
    occupied = count > 0
    cum = _tree_sum(jnp.where(occupied, quantile, 0.0)) / jnp.sum(occupied, axis=-1)  # [L, K]

    centred = jnp.abs(codes - _tree_sum(codes.T)[None, :] / n)
    max_dev = jnp.max(centred, axis=0)  # [L]
    active = jnp.max(codes, axis=0) > jnp.min(codes, axis=0)
    normalised = cum / jnp.where(active, max_dev, 1.0)[:, None]
    scores = jnp.max(1.0 - normalised, axis=1)
    weights = jnp.where(active, max_dev, 0.0)
    total = _tree_sum(weights)
    value = jnp.where(total > 0, _tree_sum(weights * scores) / jnp.where(total > 0, total, 1.0), 0)
    return {"irs": value, "num_active_dims": jnp.sum(active).astype(jnp.int32)}


def _grouped_by_bin(codes, bins, num_bins):
    """Each code's values sorted by (bin of factor k, value): `[N, L], [N, K] -> [L, K, N]`.

    Sorts int32 keys only (XLA:CPU sorts them many times faster than floats or key tuples): a
    float's order-preserving integer image, then bin · N + the value's rank in its column.
    """
    n = codes.shape[0]
    keys = order_keys(codes)
    ordered = jnp.sort(keys, axis=0)
    rank = jax.vmap(jnp.searchsorted, in_axes=1, out_axes=1)(ordered, keys)  # [N, L]
    if num_bins * n - 1 <= _INT32_KEYS:  # the largest key
        key = jnp.sort(bins.T[None, :, :] * n + rank.T[:, None, :], axis=-1)  # [L, K, N]
        rank = key % n
    else:
        _, rank = lax.sort(jnp.broadcast_arrays(bins.T[None, :, :], rank.T[:, None, :]), num_keys=2)
    values = from_order_keys(ordered).astype(codes.dtype).T  # [L, N], ascending
    return jnp.take_along_axis(values[:, None, :], rank, axis=-1)


def _at(z, index):
    """z[l, k, index[l, k, b]] for `z [L, K, N]`, `index [L, K, B]` (clipped into range)."""
    return jnp.take_along_axis(z, jnp.clip(index, 0, z.shape[-1] - 1), axis=-1)


def _count_below(z, lo, hi, threshold):
    """The first position in [lo, hi) of each ascending run of z whose value is ≥ threshold
    (hi if none), by binary search: `[L, K, N]; [.., K, B] ints; [L, K, B] -> [L, K, B]`."""

    def halve(_, bounds):
        lo, hi = bounds
        mid = (lo + hi) // 2
        right = (mid < hi) & (_at(z, mid) < threshold)
        return jnp.where(right, mid + 1, lo), jnp.where(right, hi, mid)

    bounds = tuple(jnp.broadcast_arrays(lo, hi, threshold)[:2])
    return lax.fori_loop(0, z.shape[-1].bit_length(), halve, bounds)[0]


def _merged_order_statistic(z, start, below, count, centre, rank):
    """The rank-th smallest (from 0) of |z − centre| over each run z[start : start + count]
    (ascending; its first `below` values lie below centre): `-> [L, K, B]`.

    The run's deviations are two ascending lists, d⁻_i = centre − z[start + below − 1 − i] and
    d⁺_j = z[start + below + j] − centre; the answer takes i of the rank + 1 smallest from d⁻,
    the smallest i in range with d⁻_i ≥ d⁺_{rank − i}, found by binary search.
    """
    above = count - below

    def minus(i):  # d⁻_i, +inf past its end
        value = centre - _at(z, start + below - 1 - i)
        return jnp.where(i < below, value, jnp.inf)

    def plus(j):  # d⁺_j, −inf before its start
        value = _at(z, start + below + j) - centre
        return jnp.where(j >= 0, value, -jnp.inf)

    def halve(_, bounds):
        lo, hi = bounds
        mid = (lo + hi) // 2
        right = (mid < hi) & (minus(mid) < plus(rank - mid))
        return jnp.where(right, mid + 1, lo), jnp.where(right, hi, mid)

    bounds = (jnp.maximum(0, rank + 1 - above), jnp.minimum(below, rank + 1))
    lo, _ = lax.fori_loop(0, z.shape[-1].bit_length() + 1, halve, bounds)
    return jnp.maximum(jnp.where(lo > 0, minus(lo - 1), -jnp.inf), plus(rank - lo))
