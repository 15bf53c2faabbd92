"""Decision trees on binned features, grown level by level: quantile bins, the split gains
(squared error, entropy), the growth and the leaf of each sample."""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from disentax.metrics.estimators.encoding import first_max_index
from disentax.metrics.ordering import from_order_keys, order_keys


def quantile_edges(x_NxF, num_bins: int):
    """Bin edges per feature `[F, num_bins − 1]`: midpoints between the sorted samples at the
    quantile positions ⌊jN/num_bins⌋ − 1 and ⌊jN/num_bins⌋; a feature with fewer distinct values
    than bins gets an edge between every pair of neighbouring values."""
    n = x_NxF.shape[0]
    s = from_order_keys(jnp.sort(order_keys(x_NxF.T), axis=1))  # [F, N]
    position = jnp.clip((jnp.arange(1, num_bins) * n) // num_bins, 1, n - 1)
    return 0.5 * (s[:, position - 1] + s[:, position])


def apply_bins(x_NxF, edges_FxE):
    """Bin index of each value: #{edges < x}, `[N, F] -> int32 [N, F]` in 0..num_bins−1."""
    return jax.vmap(lambda e, x: jnp.searchsorted(e, x, side="left"), in_axes=(0, 1), out_axes=1)(
        edges_FxE, x_NxF
    ).astype(jnp.int32)


def grow_tree(
    bins_NxF, level_gain, depth: int, num_bins: int, noise, feature_subset=None, schedule=None
):
    """A depth-`depth` binary tree grown level by level on binned features.

    At level d each of its 2^d nodes considers k features (all F, or k = `feature_subset` random
    ones); `level_gain(node [N], sample_bins [N, k], width) -> gain [width, k, num_bins]` scores
    each split (candidate j, left = bins ≤ t), −inf where invalid (see
    `squared_error_level_gain`, `entropy_level_gain`). A node takes its best split; exact ties
    between features are broken at random (as sklearn's random feature order), and a node whose
    best gain is not positive stays unsplit (all its samples go left). Returns (features,
    thresholds), a tuple of `[2^d]` arrays per level d, the importance Σ gain per feature `[F]`,
    and each sample's leaf `[N]` in 0..2^depth − 1.
    `noise` `[2, 2^depth − 1, F]` (uniform in [0, 1); rows 2^d − 1 .. 2^(d+1) − 2 for the nodes of
    level d) draws tie-breaks and feature subsets.
    `schedule` (static; default one level at a time) groups consecutive levels, a tuple of group
    sizes summing to `depth`: the levels of a group run in one loop over width = the nodes of its
    last level (nodes beyond a level's own 2^d hold no samples), so that each group compiles once.
    """
    n, num_features = bins_NxF.shape
    k = num_features if feature_subset is None else feature_subset

    # 1-D gathers from the flattened bins (sample n, feature f at rows[n] + f) cost less than
    # take_along_axis on [N, F]
    rows = jnp.arange(n)[:, None] * num_features
    flat_bins = jnp.asarray(bins_NxF).reshape(-1)

    def level(d, node, importance, width):
        tie, subset = lax.dynamic_slice_in_dim(noise, jnp.left_shift(1, d) - 1, width, axis=1)
        if feature_subset is None:
            candidates = jnp.broadcast_to(jnp.arange(num_features), (width, num_features))
        else:
            candidates = _smallest(subset, k)
            tie = jnp.take_along_axis(tie, candidates, axis=1)
        sample_bins = flat_bins[rows + candidates[node]]  # [N, k]
        gain = level_gain(node, sample_bins, width)  # [W, k, B]
        best_bin = first_max_index(gain)
        best_gain = jnp.max(gain, axis=2)  # [W, k]
        top = jnp.max(best_gain, axis=1, keepdims=True)
        choice = first_max_index(jnp.where(best_gain == top, tie, -1.0))
        gain_m = jnp.take_along_axis(best_gain, choice[:, None], axis=1)[:, 0]
        split = gain_m > 0
        feature = jnp.take_along_axis(candidates, choice[:, None], axis=1)[:, 0]
        threshold = jnp.where(
            split, jnp.take_along_axis(best_bin, choice[:, None], axis=1)[:, 0], num_bins - 1
        )
        importance = importance + jax.ops.segment_sum(
            jnp.where(split, gain_m, 0.0), feature, num_segments=num_features
        )
        chosen = flat_bins[rows[:, 0] + feature[node]]
        return 2 * node + (chosen > threshold[node]), importance, feature, threshold

    node = jnp.zeros(n, jnp.int32)
    importance = jnp.zeros(num_features, jnp.float32)
    features, thresholds = [], []
    first = 0
    for size in schedule or (1,) * depth:
        width = 2 ** (first + size - 1)
        if size == 1:
            node, importance, feature, threshold = level(first, node, importance, width)
            group = (feature[None], threshold[None])
        else:

            def step(i, carry, first=first, width=width):
                node, importance, group = carry
                node, importance, *split = level(first + i, node, importance, width)
                return (
                    node,
                    importance,
                    tuple(g.at[i].set(s) for g, s in zip(group, split, strict=True)),
                )

            empty = (jnp.zeros((size, width), jnp.int32), jnp.zeros((size, width), jnp.int32))
            node, importance, group = lax.fori_loop(0, size, step, (node, importance, empty))
        for i in range(size):
            features.append(group[0][i, : 2 ** (first + i)])
            thresholds.append(group[1][i, : 2 ** (first + i)])
        first += size
    return (tuple(features), tuple(thresholds)), importance, node


def _smallest(x_WxF, k: int):
    """Indices of the k smallest entries of each row, in increasing order, ties to the lower
    index: `jnp.argsort(x, stable=True)[:, :k]` by k passes of `first_max_index` (XLA:CPU's sort
    of 512 rows of 10 took 0.3 ms, as long as the rest of a deep level's bookkeeping)."""
    column = jnp.arange(x_WxF.shape[1])
    chosen = []
    for _ in range(k):
        index = first_max_index(-x_WxF)
        chosen.append(index)
        x_WxF = jnp.where(column == index[:, None], jnp.inf, x_WxF)
    return jnp.stack(chosen, axis=1)


def uniform(key, shape):
    """`jax.random.uniform(key, shape)`, drawn flat and reshaped: the same values, and XLA:CPU
    compiles it in a fraction of the time (measured: 0.3 s instead of 7 s for 2·10^6 values in
    4 dimensions)."""
    return jax.random.uniform(key, (math.prod(shape),)).reshape(shape)


def tree_leaves(tree, bins_NxF):
    """Leaf index `[N]` of each binned sample in a `grow_tree` tree."""
    node = jnp.zeros(bins_NxF.shape[0], jnp.int32)
    for feature, threshold in zip(*tree, strict=True):
        value = jnp.take_along_axis(bins_NxF, feature[node][:, None], 1)[:, 0]
        node = 2 * node + (value > threshold[node])
    return node


def _cumulative_over_bins(hist):
    """Σ_{b' ≤ b} along axis 2 by an associative scan (XLA:CPU's cumsum is quadratic, a
    triangular matmul costs B multiply-adds per entry)."""
    return lax.associative_scan(jnp.add, hist, axis=2)


def _cumulative_counts(hist):
    """Σ_{b' ≤ b} along axis 2 of integer-valued counts (exact below 2^24), as one matmul with a
    triangular matrix: fewer operations to compile and run than `_cumulative_over_bins`."""
    b = hist.shape[2]
    below = jnp.triu(jnp.ones((b, b), jnp.float32))  # [b', b]: 1 where b' ≤ b
    spec = "wkbc,bt->wktc" if hist.ndim == 4 else "wkb,bt->wkt"
    summed = jnp.einsum(spec, hist.astype(jnp.float32), below, precision=lax.Precision.HIGHEST)
    return summed.astype(hist.dtype)


def squared_error_level_gain(stats_NxS, num_bins, node, sample_bins, width):
    """`grow_tree`'s level gain for regression trees on stats (g, 1) per sample (g centred): the
    between-node sum of squares of each split, from histograms of Σg and counts `[W, k, B, 2]`."""
    n, k = sample_bins.shape
    index = (node[:, None] * k + jnp.arange(k)) * num_bins + sample_bins
    hist = jax.ops.segment_sum(
        jnp.broadcast_to(stats_NxS[:, None, :], (n, k, 2)).reshape(-1, 2),
        index.reshape(-1),
        num_segments=width * k * num_bins,
    )
    left = _cumulative_over_bins(hist.reshape(width, k, num_bins, 2))
    return _squared_error_gain(left, left[:, :, -1:, :] - left)


def _squared_error_gain(left, right):
    """Between-node sum of squares S_l²/n_l + S_r²/n_r − S²/n from centred sums (stats = (g, 1))."""
    s_l, n_l, s_r, n_r = left[..., 0], left[..., 1], right[..., 0], right[..., 1]
    n = n_l + n_r
    gain = jnp.square(s_l * n_r - s_r * n_l) / jnp.maximum(n_l * n_r * n, 1.0)
    return jnp.where((n_l >= 1) & (n_r >= 1), gain, -jnp.inf)


# A level's entropy gains come from its dense class histogram [W, k, B, C] while W·B·(C + 2)
# is at most this many times N (measured: its cost grows as W·k·B·(C + 2), a sort's as N·k),
# else from a sort of the samples.
_DENSE_CELLS_PER_SAMPLE = 6


def dense_entropy_levels(n, depth, num_bins, num_classes):
    """How many of the first levels of a tree of N samples use dense class histograms."""
    dense = [
        2**d * num_bins * (num_classes + 2) <= _DENSE_CELLS_PER_SAMPLE * n for d in range(depth)
    ]
    return dense.index(False) if False in dense else depth


def entropy_level_gain(labels_N, num_classes, num_bins, node, sample_bins, width):
    """`grow_tree`'s level gain for classification trees on samples of unit weight (bootstrap
    draws) with classes `labels_N`: the decrease of weighted entropy W·H = W log W − Σ_c W_c log W_c
    (nats) of each split. From the dense class histogram `[W, k, B, C]` while W·B·(C + 2) ≤
    `_DENSE_CELLS_PER_SAMPLE`·N, else by `_sorted_entropy_gain`."""
    n, k = sample_bins.shape
    if width * num_bins * (num_classes + 2) > _DENSE_CELLS_PER_SAMPLE * n:
        return _sorted_entropy_gain(labels_N, num_classes, num_bins, node, sample_bins, width)
    index = (node[:, None] * k + jnp.arange(k)) * num_bins + sample_bins
    hist = jax.ops.segment_sum(
        jnp.ones(n * k, jnp.float32),
        (index * num_classes + labels_N[:, None]).reshape(-1),
        num_segments=width * k * num_bins * num_classes,
    )
    left = _cumulative_counts(hist.reshape(width, k, num_bins, num_classes))
    return _entropy_gain(left, left[:, :, -1:, :] - left)


def _entropy_gain(left, right):
    """Decrease of weighted entropy W·H = W log W − Σ_c W_c log W_c (nats) from a split of each
    node (stats = weighted class counts `[W, k, B, C]`); the parent's W_c are the sums at the
    last bin, evaluated once per node."""

    def x_log_x(x):
        return jax.scipy.special.xlogy(x, x)

    n_left, n_right = jnp.sum(left, axis=-1), jnp.sum(right, axis=-1)
    parent = left[..., -1:, :] + right[..., -1:, :]
    gain = (
        x_log_x(n_left + n_right)
        - jnp.sum(x_log_x(parent), axis=-1)
        - x_log_x(n_left)
        + jnp.sum(x_log_x(left), axis=-1)
        - x_log_x(n_right)
        + jnp.sum(x_log_x(right), axis=-1)
    )
    return jnp.where((n_left >= 1) & (n_right >= 1), gain, -jnp.inf)


def _sorted_entropy_gain(labels_N, num_classes, num_bins, node, sample_bins, width):
    """`entropy_level_gain` from one sort of the (sample, candidate) pairs, `-> [W, k, B]`.

    With unit weights, Σ_c x log x over the left class counts L_c(t) telescopes over the samples
    left of t: Σ_c L_c log L_c = Σ_{n: bin ≤ t} Δ(r_n), where r_n is sample n's 1-based rank
    among the samples of its node and class in bin order and Δ(r) = r log r − (r − 1) log(r − 1);
    likewise the right counts give Σ_c P_c log P_c − Σ_{n: bin ≤ t} Δ(P_c − r_n + 1) (P_c: the
    node's count of class c). Hence gain(t) = X(P) − X(n_l) − X(n_r) + Σ_{n: bin ≤ t}
    (Δ(r_n) − Δ(P_c − r_n + 1)), X(m) = m log m, P = n_l + n_r. Sorting by (node, candidate,
    class, bin) gives the ranks; the per-bin sums are histograms `[W, k, B]` (no class axis).
    """
    n, k = sample_bins.shape
    cells = width * k * num_classes
    cell = (node[:, None] * k + jnp.arange(k)) * num_classes + labels_N[:, None]  # [N, k]
    if cells * num_bins <= 2**31 - 1:
        key = jnp.sort((cell * num_bins + sample_bins).reshape(-1))
        cell, bin_ = key // num_bins, key % num_bins
    else:
        cell, bin_ = lax.sort((cell.reshape(-1), sample_bins.reshape(-1)), num_keys=2)
    position = jnp.arange(n * k, dtype=jnp.int32)
    first = jax.ops.segment_min(position, cell, num_segments=cells)
    count = jax.ops.segment_sum(jnp.ones_like(position), cell, num_segments=cells)
    rank = position - first[cell] + 1
    x_log_x, delta = map(jnp.asarray, _x_log_x_tables(n))
    value = delta[rank] - delta[count[cell] - rank + 1]
    index = (cell // num_classes) * num_bins + bin_
    shape = (width, k, num_bins)
    summed = _cumulative_over_bins(
        jax.ops.segment_sum(value, index, width * k * num_bins).reshape(shape)
    )
    n_left = _cumulative_counts(
        jax.ops.segment_sum(jnp.ones_like(position), index, width * k * num_bins).reshape(shape)
    )
    total = n_left[:, :, -1:]
    gain = x_log_x[total] - x_log_x[n_left] - x_log_x[total - n_left] + summed
    return jnp.where((n_left >= 1) & (total - n_left >= 1), gain, -jnp.inf)


@functools.cache
def _x_log_x_tables(n):
    """X(m) = m log m and Δ(m) = X(m) − X(m − 1) (Δ(0) = 0) for m = 0..n, float32 `[n + 1]` each,
    computed in float64."""
    m = np.arange(n + 1, dtype=np.float64)
    x_log_x = m * np.log(np.maximum(m, 1.0))
    delta = np.concatenate([[0.0], np.diff(x_log_x)])
    return x_log_x.astype(np.float32), delta.astype(np.float32)
