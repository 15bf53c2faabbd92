"""Interventional Robustness Score (Suter et al. 2019) as computed by disentanglement_lib."""

import functools

import jax
import jax.numpy as jnp
from jax import lax

from disentax.errors import UserError
from disentax.metrics import inputs
from disentax.metrics.numerics import computed_once, per_member, tree_sum

# Radix selection reads keys in digits of this many bits: a histogram of 2**_DIGIT_BITS buckets
# per cell and code for each digit.
_DIGIT_BITS = 8


def irs(codes, factors, *, diff_quantile: float = 0.99, num_bins: int = 20):
    """IRS: `codes [N, L] float, factors [N, K] -> {"irs": scalar, "num_active_dims": int32}`.

    Factors are binned, g̃ = `histogram_discretize(factors, num_bins)` (disentanglement_lib's
    `irs.gin`), so they may be continuous (any finite reals; integer factors with more than
    `num_bins` values share bins, as in the reference). For an active code z_i
    (max z_i > min z_i) and factor k, with G_k the non-empty bins of g̃_k,
    D_ik = (1/|G_k|) Σ_{g ∈ G_k} Q_q(|z_i − E[z_i | g̃_k = g]| over {n : g̃_k = g}),
    where Q_q is numpy's linearly interpolated quantile at q = `diff_quantile`, and
    M_i = max_n |z_i − mean(z_i)|. Then s_i = max_k (1 − D_ik / M_i) and
    IRS = Σ_i M_i s_i / Σ_i M_i over the active codes, 0 when none is active. This is
    disentanglement_lib's `compute_irs`, except that a code counts as constant when its min equals
    its max (numpy tests var > 0, which float rounding can make positive for a constant column).
    Jittable (`num_bins` and `diff_quantile` static) and vmappable over a leading population axis;
    inactive codes are masked, and `num_active_dims` counts the active ones (disentanglement_lib
    reports the sum of the active codes' values there, a bug).
    """
    codes, factors = inputs.sample_inputs(
        "irs", codes, factors, discretize_factors=num_bins, num_bins=num_bins
    )
    if not isinstance(diff_quantile, int | float) or not 0.0 <= diff_quantile <= 1.0:
        raise UserError(
            f"diff_quantile must be a Python float in [0, 1] (static under jit), "
            f"got {diff_quantile!r}"
        )
    return _irs(codes, factors, float(diff_quantile), num_bins)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _irs(codes, binned, q, num_bins):
    return per_member(_irs_body, q, num_bins)(codes, binned)


def _irs_body(codes, binned, q, num_bins):
    n, num_factors = binned.shape
    # cell[n, k]: the bin of g̃_k holding sample n, numbered across factors, in [0, K·B)
    cell = binned - 1 + num_bins * jnp.arange(num_factors)
    count = jnp.bincount(cell.ravel(), length=num_factors * num_bins)
    cond_mean = _cell_means(codes, cell, count)  # [K·B, L]
    # |z − E[z | bin]| per sample, factor and code, computed once for the passes that read it
    deviation = computed_once(lambda c, m: jnp.abs(c[:, None, :] - m[cell]), codes, cond_mean)

    position = q * jnp.maximum(count - 1.0, 0.0)
    lower = jnp.floor(position)
    a, b = _order_statistics(deviation, cell, lower.astype(jnp.int32))
    frac = (position - lower)[:, None]
    quantile = jnp.where(frac >= 0.5, b - (b - a) * (1.0 - frac), a + (b - a) * frac)
    occupied = (count > 0).reshape(num_factors, num_bins)
    quantile = jnp.where(occupied[..., None], quantile.reshape(num_factors, num_bins, -1), 0.0)
    cum = tree_sum(quantile.transpose(2, 0, 1)) / jnp.sum(occupied, axis=-1)  # [L, K]

    centred = jnp.abs(codes - tree_sum(codes.T)[None, :] / n)
    max_dev = jnp.max(centred, axis=0)  # [L]
    active = jnp.max(codes, axis=0) > jnp.min(codes, axis=0)
    normalised = cum / jnp.where(active, max_dev, 1.0)[:, None]
    scores = jnp.max(1.0 - normalised, axis=1)
    weights = jnp.where(active, max_dev, 0.0)
    total = tree_sum(weights)
    value = jnp.where(total > 0, tree_sum(weights * scores) / jnp.where(total > 0, total, 1.0), 0)
    return {"irs": value, "num_active_dims": jnp.sum(active).astype(jnp.int32)}


def _cell_means(codes, cell, count):
    """E[z | cell]: `codes [N, L], cell [N, K] in [0, C), count [C] -> [C, L]` (0 for empty
    cells), in two passes: the sums' mean, corrected by the mean of the residuals about it."""
    rows = jnp.broadcast_to(codes[:, None, :], cell.shape + codes.shape[1:]).reshape(
        -1, codes.shape[1]
    )
    index = cell.ravel()
    size = jnp.maximum(count, 1).astype(codes.dtype)[:, None]
    rough = jax.ops.segment_sum(rows, index, count.shape[0]) / size
    return rough + jax.ops.segment_sum(rows - rough[index], index, count.shape[0]) / size


def _order_statistics(values, cell, rank):
    """The rank-th and the (rank + 1)-th smallest (from 0; the latter clipped to the cell's last)
    of non-negative `values [N, K, L]` over the samples of each cell, per code:
    `cell [N, K] in [0, C), rank [C] -> ([C, L], [C, L])`.

    Radix selection: the values' bit patterns, read as integers, order them, and are found a
    digit at a time from the top; each digit comes from a histogram of the digit of the values
    that share the digits found so far (a scatter-add, no sort). The (rank + 1)-th is the same
    value where ties reach it, else the least value above (a scatter-min).
    """
    key_type = jnp.int32 if values.dtype.itemsize == 4 else jnp.int64
    keys = lax.bitcast_convert_type(values, key_type)  # +0 and positive floats: order kept
    width, radix = 8 * values.dtype.itemsize, 1 << _DIGIT_BITS
    cells, num_codes = rank.shape[0], values.shape[-1]
    slot = cell[..., None] * num_codes + jnp.arange(num_codes)  # [N, K, L] in [0, C·L)
    size = cells * num_codes * radix  # histogram buckets; an index past them is dropped
    prefix = jnp.zeros((cells, num_codes), key_type)
    remaining = jnp.broadcast_to(rank[:, None], prefix.shape)
    for shift in range(width - _DIGIT_BITS, -1, -_DIGIT_BITS):
        bucket = slot * radix + ((keys >> shift) & (radix - 1)).astype(slot.dtype)
        if shift + _DIGIT_BITS < width:
            found = prefix[cell] >> (shift + _DIGIT_BITS)
            bucket = jnp.where(keys >> (shift + _DIGIT_BITS) == found, bucket, size)
        hist = jnp.zeros(size, jnp.int32).at[bucket].add(1, mode="drop")
        digit, before, equal = _locate(hist.reshape(cells, num_codes, radix), remaining)
        remaining = remaining - before
        prefix = prefix | (digit.astype(key_type) << shift)
    at_most = rank[:, None] - remaining + equal  # values ≤ the rank-th
    sentinel = jnp.iinfo(key_type).max
    above = jnp.where(keys > prefix[cell], slot, cells * num_codes)
    least_above = jnp.full(cells * num_codes, sentinel).at[above].min(keys, mode="drop")
    least_above = least_above.reshape(cells, num_codes)
    upper = jnp.where(
        (at_most > rank[:, None] + 1) | (least_above == sentinel), prefix, least_above
    )
    as_values = functools.partial(lax.bitcast_convert_type, new_dtype=values.dtype)
    return as_values(prefix), as_values(upper)


def _locate(hist, rank):
    """The bucket of each histogram `hist [..., R]` (R a square, ≥ 4) holding its rank-th counted
    item (from 0), the count before that bucket and the bucket's count: `rank [...] -> 3 × [...]`
    (the last bucket when rank is past the total). Cumulative counts in two levels of √R."""
    side = round(hist.shape[-1] ** 0.5)
    blocks = hist.reshape(hist.shape[:-1] + (side, side))

    def first_past(counts, base):  # the first position whose cumulative count exceeds rank
        end = jnp.cumsum(counts, axis=-1) + base[..., None]
        at = jnp.minimum(jnp.sum(end <= rank[..., None], axis=-1), side - 1)
        start = jnp.take_along_axis(end - counts, at[..., None], axis=-1)[..., 0]
        return at, start

    block, start = first_past(jnp.sum(blocks, axis=-1), jnp.zeros_like(rank))
    within = jnp.take_along_axis(blocks, block[..., None, None], axis=-2)[..., 0, :]
    bucket, before = first_past(within, start)
    equal = jnp.take_along_axis(within, bucket[..., None], axis=-1)[..., 0]
    return block * side + bucket, before, equal
