"""Mutual Information Gap (Chen et al. 2018) with disentanglement_lib's histogram discretiser."""

import functools

import jax
import jax.numpy as jnp
from jax import lax

from disentax.errors import UserError


def _require_2d(name, x):
    if x.ndim != 2:
        raise UserError(f"{name} must be 2-D [N, columns], got shape {tuple(x.shape)}")


def _require_same_n(a_name, a, b_name, b):
    if a.shape[0] != b.shape[0]:
        raise UserError(
            f"{a_name} and {b_name} need the same number of samples N, "
            f"got {a.shape[0]} and {b.shape[0]}"
        )


def _as_float_codes(codes, num_bins):
    if not isinstance(num_bins, int) or num_bins < 1:
        raise UserError(
            f"num_bins must be a positive Python int (static under jit), got {num_bins!r}"
        )
    codes = jnp.asarray(codes)
    _require_2d("codes", codes)
    if not jnp.issubdtype(codes.dtype, jnp.floating) or codes.dtype.itemsize < 4:
        codes = codes.astype(jnp.float32)  # integers and half precision (no LAPACK kernels)
    _require_finite("codes", codes)
    return codes


def _require_finite(name, x):
    """One-line `UserError` for concrete `x` holding NaN or ±Inf (traced values are not checked)."""
    if not isinstance(x, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(x))):
        raise UserError(
            f"{name} contain NaN or Inf (after conversion to {x.dtype}); metrics need finite values"
        )


def _codes_and_factors(metric, codes, factors, num_bins, min_codes=1):
    """Checks `codes` `[N, L]` (L >= min_codes) and `factors` `[N, K]` (K >= 1), N >= 1, with
    one-line `UserError`s naming `metric`; returns them as (float codes, factors) arrays."""
    codes, factors = _as_float_codes(codes, num_bins), jnp.asarray(factors)
    _require_2d("factors", factors)
    _require_same_n("codes", codes, "factors", factors)
    if codes.shape[0] < 1:
        raise UserError(f"{metric} needs at least one sample, got N = 0")
    if codes.shape[1] < min_codes or factors.shape[1] < 1:
        raise UserError(
            f"{metric} needs at least {min_codes} code dimension(s) and one factor, got codes "
            f"of shape {codes.shape} and factors of shape {factors.shape}"
        )
    return codes, factors


def histogram_discretize(codes, num_bins: int = 20):
    """Bin each code into `num_bins` equal-width bins over its sample range: `[N, L] -> int32`.

    Per column x: edges e_i = min(x) + i·(max(x) − min(x))/num_bins for i = 0..num_bins−1, and
    bin(x_n) = #{i : e_i ≤ x_n} ∈ {1..num_bins}, i.e. disentanglement_lib's
    `np.digitize(x, np.histogram(x, num_bins)[1][:-1])`. A constant column gets numpy's range
    [x − ½, x + ½]. Edges are computed in float32, so a value within an ulp of an edge may land in
    the neighbouring bin. `num_bins` must be a Python int (static under `jax.jit`).
    """
    return _discretize(_as_float_codes(codes, num_bins), num_bins)


@functools.partial(jax.jit, static_argnames="num_bins")
def _discretize(codes, num_bins):
    def column(x):
        lo, hi = jnp.min(x), jnp.max(x)
        constant = lo == hi
        lo = jnp.where(constant, lo - 0.5, lo)
        hi = jnp.where(constant, hi + 0.5, hi)
        step = (hi - lo) / num_bins
        edges = lo + jnp.arange(num_bins, dtype=x.dtype) * step
        return jnp.searchsorted(edges, x, side="right").astype(jnp.int32)

    return jax.vmap(column, in_axes=1, out_axes=1)(codes)


def _tree_sum(x):
    """Σ over the last axis by pairwise summation in a fixed order, so that `vmap` and jit shapes
    round identically (XLA's reduce may order a batched reduction differently): `[..., N] -> [...]`.
    """
    width = 1 << (x.shape[-1] - 1).bit_length()
    x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, width - x.shape[-1])])
    while x.shape[-1] > 1:
        half = x.shape[-1] // 2
        x = x[..., :half] + x[..., half:]
    return x[..., 0]


def _group_sizes(*keys):
    """For each sample n, the number of samples whose key tuple equals sample n's: `[N] -> [N]`."""
    n = keys[0].shape[0]
    *sorted_keys, order = lax.sort((*keys, jnp.arange(n)), num_keys=len(keys))
    starts = jnp.zeros(n, bool).at[0].set(True)
    for k in sorted_keys:
        starts = starts.at[1:].set(starts[1:] | (k[1:] != k[:-1]))
    group = jnp.cumsum(starts) - 1
    sizes = jax.ops.segment_sum(jnp.ones(n, jnp.int32), group, num_segments=n)
    return jnp.zeros(n, jnp.int32).at[order].set(sizes[group])


def discrete_mutual_info(a, b):
    """Plug-in mutual information in nats between every column pair: `[N, A], [N, B] -> [A, B]`.

    I(a_i; b_j) = (1/N) Σ_n log(N·c_ij(n) / (c_i(n)·c_j(n))), clipped at 0, where c_i(n) counts
    the samples sharing a_i's label with sample n, c_j(n) likewise for b_j, and c_ij(n) the samples
    sharing both. Labels are compared for equality only (any values), so this equals
    `sklearn.metrics.mutual_info_score(a[:, i], b[:, j])` up to float32 rounding.
    """
    a, b = jnp.asarray(a), jnp.asarray(b)
    _require_2d("a", a)
    _require_2d("b", b)
    _require_same_n("a", a, "b", b)
    return _mutual_info(a, b)


@jax.jit
def _mutual_info(a, b):
    n = jnp.float32(a.shape[0])
    count_a = jax.vmap(_group_sizes, in_axes=1, out_axes=1)(a).astype(jnp.float32)
    count_b = jax.vmap(_group_sizes, in_axes=1, out_axes=1)(b).astype(jnp.float32)

    def pair(a_col, b_col, ca, cb):
        joint = _group_sizes(a_col, b_col).astype(jnp.float32)
        return jnp.maximum(_tree_sum(jnp.log(n * joint / (ca * cb))) / n, 0.0)

    over_b = jax.vmap(pair, in_axes=(None, 1, None, 1))
    return jax.vmap(over_b, in_axes=(1, None, 1, None))(a, b, count_a, count_b)


def discrete_entropy(labels):
    """Plug-in entropy in nats of each column: `[N, K] -> [K]`, H(y) = (1/N) Σ_n log(N / c(n)).

    c(n) counts the samples sharing sample n's label; equals `mutual_info_score(y, y)`.
    """
    labels = jnp.asarray(labels)
    _require_2d("labels", labels)
    return _entropy(labels)


@jax.jit
def _entropy(labels):
    n = jnp.float32(labels.shape[0])

    def column(y):
        return _tree_sum(jnp.log(n / _group_sizes(y).astype(jnp.float32))) / n

    return jax.vmap(column, in_axes=1)(labels)


def mig(codes, factors, *, num_bins: int = 20):
    """Mutual Information Gap: `codes [N, L] float, factors [N, K] int -> {"mig": scalar}`.

    MIG = (1/|K⁺|) Σ_{k ∈ K⁺} (I_(1),k − I_(2),k) / H(v_k), where I_(1),k ≥ I_(2),k are the two
    largest I(z̃_j; v_k) over codes j (not clipped), z̃ = `histogram_discretize(codes, num_bins)`,
    and I, H are `discrete_mutual_info` and `discrete_entropy` (nats). This is disentanglement_lib's
    `_compute_mig`, except for constant factors (H(v_k) = 0), where it divides by zero: here they
    are left out, K⁺ = {k : H(v_k) > 0}, and MIG = 0 when every factor is constant.
    Jittable (`num_bins` static) and vmappable over a leading population axis.
    """
    codes, factors = _codes_and_factors("mig", codes, factors, num_bins, min_codes=2)
    return _mig(codes, factors, num_bins)


@functools.partial(jax.jit, static_argnums=2)
def _mig(codes, factors, num_bins):
    mi = _mutual_info(_discretize(codes, num_bins), factors)
    entropy = _entropy(factors)
    top = jnp.sort(mi, axis=0)
    gap = top[-1] - top[-2]
    informative = entropy > 0
    normalised = jnp.where(informative, gap / jnp.where(informative, entropy, 1.0), 0.0)
    return {"mig": _tree_sum(normalised) / jnp.maximum(jnp.sum(informative), 1)}
