"""Mutual Information Gap (Chen et al. 2018) with disentanglement_lib's histogram discretiser."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from disentax.metrics import inputs

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
    return _discretize(inputs.codes_matrix("codes", codes, min_rows=1), num_bins)


_discretize = inputs.equal_width_bins


def _tree_sum(x):
    """Σ over the last axis by pairwise summation in a fixed order, so that `vmap` and jit shapes
    round identically (XLA's reduce may order a batched reduction differently): `[..., N] -> [...]`.
    Each level adds the two halves, as a sum over an axis of size 2 (exact in either order).
    """
    width = 1 << (x.shape[-1] - 1).bit_length()
    x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, width - x.shape[-1])])
    while x.shape[-1] > 1:
        x = jnp.sum(x.reshape(x.shape[:-1] + (2, x.shape[-1] // 2)), axis=-2)
    return x[..., 0]


def _computed_once(fn, *args):
    """`fn(*args)`, computed into buffers of its own. XLA:CPU fuses elementwise work into each
    consumer, so a result that is gathered from, or read by several passes, is recomputed at
    every read (`lax.optimization_barrier` does not prevent that fusion); the branches of a
    conditional are not fused into their users. Both branches are `fn`: the predicate need only
    be opaque to the compiler."""
    probe = jax.tree.leaves(args)[0].ravel()[0]
    return lax.cond(probe != 0, fn, fn, *args)


def _label_space(labels):
    """Static size of the label space `_as_labels` maps `labels [N, C]` into, decided before
    tracing: for a concrete integer array whose columns each span at most N values, the next
    power of two ≥ the widest span (labels become offsets from the column minimum); otherwise
    None (labels are ranked inside the computation, into [0, N))."""
    if isinstance(labels, jax.core.Tracer):
        return None
    values = np.asarray(labels)
    if not np.issubdtype(values.dtype, np.integer) or values.ndim != 2 or values.size == 0:
        return None
    # the values jnp.asarray will hold (64-bit integers become 32-bit without jax_enable_x64)
    values = values.astype(jax.dtypes.canonicalize_dtype(values.dtype)).astype(np.int64)
    span = int(np.max(values.max(axis=0) - values.min(axis=0))) + 1
    return 1 << (span - 1).bit_length() if span <= values.shape[0] else None


def _as_labels(labels, space):
    """Labels compared for equality only, as int32 in [0, size): `[N, C] -> ([N, C], size)`.

    With a static `space` (see `_label_space`): the offset from each column's minimum. Otherwise
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


def _label_counts(labels, size):
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
    a_space, b_space = _label_space(a), _label_space(b)
    return _labelled_mutual_info(a, a_space, b, b_space)


@jax.jit
def _mutual_info(a, b):
    """`discrete_mutual_info` of traced labels of any values (ranked inside)."""
    return _labelled_mutual_info(a, None, b, None)


@functools.partial(jax.jit, static_argnums=(1, 3))
def _labelled_mutual_info(a, a_space, b, b_space):
    x, x_size = _as_labels(a, a_space)
    y, y_size = _as_labels(b, b_space)
    return _mutual_info_of_labels(x, x_size, y, y_size)


def _mutual_info_of_labels(x, x_size, y, y_size):
    """`discrete_mutual_info` of labels in [0, x_size) and [0, y_size): `-> [A, J]`."""
    a, j = x.shape[1], y.shape[1]
    rows, cols = np.divmod(np.arange(a * j), j)
    return _paired_mutual_info(x, x_size, y, y_size, rows, cols).reshape(a, j)


def _paired_mutual_info(x, x_size, y, y_size, rows, cols):
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
        terms = _computed_once(functools.partial(_log_ratio, n), joint, count_x, count_y)
        terms = terms.reshape(-1)[index]
    else:
        count_x = _label_counts(x, x_size).T[rows]  # [P, N]
        count_y = _label_counts(y, y_size).T[cols]
        joint = _joint_counts(x[:, rows], x_size, y[:, cols], y_size)
        terms = _computed_once(functools.partial(_log_ratio, n), joint, count_x, count_y)
    return jnp.maximum(_tree_sum(terms) / n, 0.0)


def _log_ratio(n, joint, count_x, count_y):
    """log(N c_ij / (c_i c_j)), the per-sample term of `discrete_mutual_info`."""
    return jnp.log(n * joint / (count_x * count_y))


def discrete_entropy(labels):
    """Plug-in entropy in nats of each column: `[N, K] -> [K]`, H(y) = (1/N) Σ_n log(N / c(n)).

    c(n) counts the samples sharing sample n's label; equals `mutual_info_score(y, y)`.
    """
    labels = inputs.matrix("labels", labels, min_rows=1)
    space = _label_space(labels)
    return _labelled_entropy(labels, space)


@jax.jit
def _entropy(labels):
    """`discrete_entropy` of traced labels of any values (ranked inside)."""
    return _labelled_entropy(labels, None)


@functools.partial(jax.jit, static_argnums=1)
def _labelled_entropy(labels, space):
    return _entropy_of_labels(*_as_labels(labels, space))


def _entropy_of_labels(y, size):
    """`discrete_entropy` of labels `[N, K]` in [0, size): each label's log(N / c) computed
    once from the counts and read back per sample, summed in sample order: `-> [K]`."""
    n = jnp.float32(y.shape[0])
    index, length = _column_labels(y, size)
    per_label = _computed_once(jnp.log, n / _bincount(length)(index).astype(jnp.float32))
    return _tree_sum(per_label[index].T) / n


@functools.cache
def _per_member(body, *static):
    """`arrays -> body(*arrays, *static)`, whose `vmap` on CPU runs the members one after another
    in one compiled loop (`lax.map`): XLA:CPU runs the counting and sorting of one member with its
    working set in cache, where the batched ops over all members run several times slower than
    separate calls. Other backends batch as usual."""

    @jax.custom_batching.custom_vmap
    def call(*arrays):
        return body(*arrays, *static)

    @call.def_vmap
    def _batched(axis_size, in_batched, *arrays):
        del axis_size
        if jax.default_backend() != "cpu":
            in_axes = [0 if batched else None for batched in in_batched]
            out = jax.vmap(lambda *a: body(*a, *static), in_axes=in_axes)(*arrays)
        else:
            pairs = list(zip(arrays, in_batched, strict=True))

            def member(sliced):
                sliced = iter(sliced)
                return call(*(next(sliced) if batched else a for a, batched in pairs))

            out = lax.map(member, [a for a, batched in pairs if batched])
        return out, jax.tree.map(lambda _: True, out)

    return call


def mig(codes, factors, *, num_bins: int = 20, discretize_factors: int | None = None):
    """Mutual Information Gap: `codes [N, L] float, factors [N, K] int -> {"mig": scalar}`.

    MIG = (1/|K⁺|) Σ_{k ∈ K⁺} (I_(1),k − I_(2),k) / H(v_k), where I_(1),k ≥ I_(2),k are the two
    largest I(z̃_j; v_k) over codes j (not clipped), z̃ = `histogram_discretize(codes, num_bins)`,
    and I, H are `discrete_mutual_info` and `discrete_entropy` (nats). This is disentanglement_lib's
    `_compute_mig`, except for constant factors (H(v_k) = 0), where it divides by zero: here they
    are left out, K⁺ = {k : H(v_k) > 0}, and MIG = 0 when every factor is constant.
    Jittable (`num_bins` static) and vmappable over a leading population axis.

    Factors are discrete: an integer dtype, or floats whose values are all integers (checked
    where concrete; under jit/vmap only an integer dtype). Other factors are a `UserError`
    unless `discretize_factors=B`, which bins each factor into B equal-width bins
    (`histogram_discretize`) first (`inputs.sample_inputs`).
    """
    codes, factors = inputs.sample_inputs(
        "mig", codes, factors, min_codes=2, discretize_factors=discretize_factors, num_bins=num_bins
    )
    return _mig(codes, factors, num_bins, _label_space(factors))


def _binned_mutual_info(codes, num_bins, factors, factor_space):
    """I(z̃_l; v_k) of the binned codes and the factors, and H(v_k): `-> [L, K], [K]`."""
    y, y_size = _as_labels(factors, factor_space)
    binned = _computed_once(lambda z: _discretize(z, num_bins) - 1, codes)  # once, not per pair
    mi = _mutual_info_of_labels(binned, num_bins, y, y_size)
    return mi, _entropy_of_labels(y, y_size)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _mig(codes, factors, num_bins, factor_space):
    return _per_member(_mig_body, num_bins, factor_space)(codes, factors)


def _mig_body(codes, factors, num_bins, factor_space):
    mi, entropy = _binned_mutual_info(codes, num_bins, factors, factor_space)
    top = jnp.sort(mi, axis=0)
    gap = top[-1] - top[-2]
    informative = entropy > 0
    normalised = jnp.where(informative, gap / jnp.where(informative, entropy, 1.0), 0.0)
    return {"mig": _tree_sum(normalised) / jnp.maximum(jnp.sum(informative), 1)}
