"""Discrete information kernels: equal-width discretisation, label counts, contingency tables,
plug-in mutual information and entropy in nats (disentanglement_lib's estimators).

For labels a, b of N samples, with c_a(n) the number of samples sharing sample n's label of a,
c_b(n) likewise and c_ab(n) the samples sharing both,
I(a; b) = (1/N) Σ_n log(N·c_ab(n) / (c_a(n)·c_b(n))) and H(a) = I(a; a) = (1/N) Σ_n log(N / c_a(n)).
The public kernels take labels of any values (compared for equality only) or labels already in
[0, size) (`as_labels`), and sum per-sample terms in sample order (`numerics.tree_sum`), so that
the label encoding, `jit` and `vmap` do not change the rounding.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from disentax.metrics import inputs
from disentax.metrics.numerics import computed_once, tree_sum

# Label counts over up to this many cells (64 MiB of int32; all column pairs together) come
# from one bincount; larger label spaces sort each column pair's combined labels instead.
_TABLE_CELLS = 1 << 24


def histogram_discretize(codes, num_bins: int = 20):
    """Bin each code into `num_bins` equal-width bins over its sample range: `[N, L] -> int32`.

    Per column x: edges e_i = min(x) + i·(max(x) − min(x))/num_bins for i = 0..num_bins−1, and
    bin(x_n) = #{i : e_i ≤ x_n} ∈ {1..num_bins}, i.e. disentanglement_lib's
    `np.digitize(x, np.histogram(x, num_bins)[1][:-1])`. A constant column gets numpy's range
    [x − ½, x + ½]. Edges are computed in float32, so a value within an ulp of an edge may land in
    the neighbouring bin. `num_bins` must be a Python int (static under `jax.jit`).
    """
    inputs.positive_int("num_bins", num_bins)
    return inputs.equal_width_bins(inputs.codes_matrix("codes", codes, min_rows=1), num_bins)


def label_space(labels):
    """Static size of the label space `as_labels` maps `labels [N, C]` into, decided before
    tracing: for a concrete integer array whose columns each span at most N values, the next
    power of two ≥ the widest span (labels become offsets from the column minimum); otherwise
    None (labels are ranked inside the computation, into [0, N))."""
    if isinstance(labels, jax.core.Tracer):
        return None
    values = np.asarray(labels)
    if not np.issubdtype(values.dtype, np.integer) or values.ndim != 2 or values.size == 0:
        return None
    # the values jnp.asarray will hold (64-bit integers become 32-bit without jax_enable_x64),
    # one column per row: numpy reduces a few columns along axis 0 ~10× slower
    columns = np.ascontiguousarray(values.T, jax.dtypes.canonicalize_dtype(values.dtype))
    span = int(np.max(columns.max(axis=1).astype(np.int64) - columns.min(axis=1))) + 1
    return 1 << (span - 1).bit_length() if span <= values.shape[0] else None


def as_labels(labels, space):
    """Labels compared for equality only, as int32 in [0, size): `[N, C] -> ([N, C], size)`.

    With a static `space` (see `label_space`): the offset from each column's minimum. Otherwise
    each value's first position in its sorted column, found by a sort and a binary search.
    """
    if space is not None:
        if labels.dtype.itemsize < 4:
            labels = labels.astype(jnp.int32)  # no overflow of narrow types in the subtraction
        return (labels - jnp.min(labels, axis=0)).astype(jnp.int32), space
    if jnp.issubdtype(labels.dtype, jnp.floating):
        floats = labels.astype(jnp.float32)
        keys = lax.bitcast_convert_type(jnp.where(floats == 0, 0.0, floats), jnp.int32)  # −0 = 0
    else:
        keys = labels.astype(jnp.int32)  # a bijection for every ≤ 32-bit integer type and bool
    first = jax.vmap(functools.partial(jnp.searchsorted, side="left"), in_axes=1, out_axes=1)
    return first(jnp.sort(keys, axis=0), keys).astype(jnp.int32), labels.shape[0]


def label_counts(labels, size):
    """c(n): the number of samples sharing sample n's label, per column:
    `[N, C] int in [0, size) -> [N, C] float32`."""
    index, length = _column_labels(labels, size)
    return _counts_at(length)(index).astype(jnp.float32)


def _column_labels(labels, size):
    """Labels `[N, C]` in [0, size) made distinct across columns: `-> ([N, C], C · size)`."""
    return labels + size * jnp.arange(labels.shape[1]), labels.shape[1] * size


@functools.cache
def _counts_at(length):
    """`index -> bincount(index, length)[index]` (int32, any shape, values in [0, length));
    batched as `_bincount`."""
    bincount = _bincount(length)
    return lambda index: bincount(index)[index]


@functools.cache
def _bincount(length):
    """`index -> bincount(index, length)` (int32, any shape, values in [0, length)), whose
    `vmap` folds the batch axis into the index: one flat bincount for all members (XLA:CPU runs
    a batched scatter many times slower), or one member after the other when that table would
    exceed `_TABLE_CELLS`."""

    @jax.custom_batching.custom_vmap
    def bincount(index):
        return jnp.bincount(index.ravel(), length=length)

    @bincount.def_vmap
    def _batched(axis_size, in_batched, index):
        del in_batched  # the only argument, so batched
        if axis_size * length > _TABLE_CELLS:
            return lax.map(bincount, index), True
        member = jnp.arange(axis_size, dtype=index.dtype).reshape((-1,) + (1,) * (index.ndim - 1))
        table = _bincount(axis_size * length)(index + length * member)
        return table.reshape(axis_size, length), True

    return bincount


def _joint_counts(x, x_size, y, y_size):
    """c_p(n): the number of samples sharing sample n's label pair (x_p, y_p), per column pair p:
    `[N, P] in [0, x_size), [N, P] in [0, y_size) -> [P, N] float32`."""
    pairs = x.shape[1]
    cells = pairs * x_size * y_size
    if cells <= _TABLE_CELLS:  # one bincount over the combined index of every column pair
        return _counts_at(cells)(_pair_cells(x, x_size, y, y_size)).astype(jnp.float32)
    if x_size * y_size <= 1 << 32:  # sort each pair's combined label, then count its copies
        keys = (x.T.astype(jnp.uint32) * y_size + y.T.astype(jnp.uint32),)
    else:
        keys = (x.T, y.T)
    return _occurrences(keys).astype(jnp.float32)


def _pair_cells(x, x_size, y, y_size):
    """Each sample's cell in the stacked contingency tables of the column pairs:
    `[N, P] in [0, x_size), [N, P] in [0, y_size) -> [P, N]` in [0, P · x_size · y_size)."""
    return (jnp.arange(x.shape[1])[:, None] * x_size + x.T) * y_size + y.T


def _occurrences(keys):
    """How many positions along the last axis hold each position's key tuple:
    tuple of `[..., N]` -> `[..., N]` int32, by a lexicographic sort and two binary searches."""
    n = keys[0].shape[-1]
    ordered = lax.sort(keys, dimension=keys[0].ndim - 1, num_keys=len(keys))

    def count_below(inclusive):
        def halve(_, bounds):
            lo, hi = bounds
            mid = (lo + hi) // 2
            at = [jnp.take_along_axis(s, jnp.minimum(mid, n - 1), axis=-1) for s in ordered]
            below, equal = jnp.zeros(mid.shape, bool), jnp.ones(mid.shape, bool)
            for s, k in zip(at, keys, strict=True):
                below, equal = below | (equal & (s < k)), equal & (s == k)
            right = (mid < hi) & (below | (equal & inclusive))
            return jnp.where(right, mid + 1, lo), jnp.where(right, hi, mid)

        bounds = (jnp.zeros(keys[0].shape, jnp.int32), jnp.full(keys[0].shape, n, jnp.int32))
        return lax.fori_loop(0, n.bit_length(), halve, bounds)[0]

    return count_below(True) - count_below(False)


def discrete_mutual_info(a, b):
    """Plug-in mutual information in nats between every column pair: `[N, A], [N, B] -> [A, B]`.

    I(a_i; b_j) = (1/N) Σ_n log(N·c_ij(n) / (c_i(n)·c_j(n))), clipped at 0, where c_i(n) counts
    the samples sharing a_i's label with sample n, c_j(n) likewise for b_j, and c_ij(n) the samples
    sharing both. Labels are compared for equality only (any values), so this equals
    `sklearn.metrics.mutual_info_score(a[:, i], b[:, j])` up to float32 rounding.
    """
    a, b = inputs.matrix("a", a, min_rows=1), inputs.matrix("b", b)
    inputs.same_samples("a", a, "b", b)
    a_space, b_space = label_space(a), label_space(b)
    return _labelled_mutual_info(a, a_space, b, b_space)


@jax.jit
def mutual_info_of_values(a, b):
    """`discrete_mutual_info` of unchecked labels of any values, traced or not (ranked inside,
    into [0, N)): `[N, A], [N, B] -> [A, B]`."""
    return _labelled_mutual_info(a, None, b, None)


@functools.partial(jax.jit, static_argnums=(1, 3))
def _labelled_mutual_info(a, a_space, b, b_space):
    x, x_size = as_labels(a, a_space)
    y, y_size = as_labels(b, b_space)
    return mutual_info_of_labels(x, x_size, y, y_size)


def mutual_info_of_labels(x, x_size, y, y_size):
    """`discrete_mutual_info` of labels `x [N, A]` in [0, x_size) and `y [N, J]` in [0, y_size)
    (`as_labels`): `-> [A, J]`."""
    a, j = x.shape[1], y.shape[1]
    rows, cols = np.divmod(np.arange(a * j), j)
    return paired_mutual_info(x, x_size, y, y_size, rows, cols).reshape(a, j)


def paired_mutual_info(x, x_size, y, y_size, rows, cols):
    """I(x_{rows[p]}; y_{cols[p]}) for the column pairs p listed in the static index arrays
    `rows`, `cols` (see `discrete_mutual_info`): `-> [P]`.

    Where the pairs' contingency tables have fewer cells than there are terms (P · N), each
    cell's term is computed once and read back per sample; otherwise per sample from gathered
    counts. Either way the same terms, each computed by itself (XLA rounds a log fused into a
    sum differently), are summed in sample order, so the label encoding (and with it the path)
    does not change the rounding.
    """
    n = jnp.float32(x.shape[0])
    pairs = len(rows)
    cells = pairs * x_size * y_size
    if cells <= min(pairs * x.shape[0], _TABLE_CELLS):
        index = _pair_cells(x[:, rows], x_size, y[:, cols], y_size)  # [P, N]
        joint = _bincount(cells)(index).reshape(pairs, x_size, y_size)
        count_x = jnp.sum(joint, axis=2, keepdims=True).astype(jnp.float32)
        count_y = jnp.sum(joint, axis=1, keepdims=True).astype(jnp.float32)
        joint = joint.astype(jnp.float32)
        terms = computed_once(functools.partial(_log_ratio, n), joint, count_x, count_y)
        terms = terms.reshape(-1)[index]
    else:
        count_x = label_counts(x, x_size).T[rows]  # [P, N]
        count_y = label_counts(y, y_size).T[cols]
        joint = _joint_counts(x[:, rows], x_size, y[:, cols], y_size)
        terms = computed_once(functools.partial(_log_ratio, n), joint, count_x, count_y)
    return jnp.maximum(tree_sum(terms) / n, 0.0)


def _log_ratio(n, joint, count_x, count_y):
    """log(N c_ij / (c_i c_j)), the per-sample term of `discrete_mutual_info`."""
    return jnp.log(n * joint / (count_x * count_y))


def discrete_entropy(labels):
    """Plug-in entropy in nats of each column: `[N, K] -> [K]`, H(y) = (1/N) Σ_n log(N / c(n)).

    c(n) counts the samples sharing sample n's label; equals `mutual_info_score(y, y)`.
    """
    labels = inputs.matrix("labels", labels, min_rows=1)
    space = label_space(labels)
    return _labelled_entropy(labels, space)


@jax.jit
def entropy_of_values(labels):
    """`discrete_entropy` of unchecked labels of any values, traced or not (ranked inside, into
    [0, N)): `[N, K] -> [K]`."""
    return _labelled_entropy(labels, None)


@functools.partial(jax.jit, static_argnums=1)
def _labelled_entropy(labels, space):
    return entropy_of_labels(*as_labels(labels, space))


def entropy_of_labels(y, size):
    """`discrete_entropy` of labels `[N, K]` in [0, size): each label's log(N / c) computed
    once from the counts and read back per sample, summed in sample order: `-> [K]`."""
    n = jnp.float32(y.shape[0])
    index, length = _column_labels(y, size)
    per_label = computed_once(jnp.log, n / _bincount(length)(index).astype(jnp.float32))
    return tree_sum(per_label[index].T) / n


def binned_labels(codes, num_bins):
    """z̃ − 1: `histogram_discretize`'s bins of unchecked codes as labels in [0, num_bins),
    computed once (not per column pair that reads them): `[N, L] float -> [N, L] int32`."""
    return computed_once(lambda z: inputs.equal_width_bins(z, num_bins) - 1, codes)


def binned_mutual_info(codes, num_bins, factors, factor_space):
    """I(z̃_l; v_k) of the binned codes z̃ (`binned_labels`) and the factors v (labels of the
    static `label_space` `factor_space`), and H(v_k): `[N, L], [N, K] -> [L, K], [K]`."""
    y, y_size = as_labels(factors, factor_space)
    mi = mutual_info_of_labels(binned_labels(codes, num_bins), num_bins, y, y_size)
    return mi, entropy_of_labels(y, y_size)
