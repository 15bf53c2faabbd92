"""Array kernels the metrics share for fixed rounding and speed on XLA:CPU: a sum in a fixed
order, a value computed once, a `vmap` that runs members one after another, a binary search."""

import functools

import jax
import jax.numpy as jnp
from jax import lax


def tree_sum(x):
    """Σ over the last axis by pairwise summation in a fixed order, so that `vmap` and jit shapes
    round identically (XLA's reduce may order a batched reduction differently): `[..., N] -> [...]`.
    Each level adds the two halves, as a sum over an axis of size 2 (exact in either order).
    """
    width = 1 << (x.shape[-1] - 1).bit_length()
    x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, width - x.shape[-1])])
    while x.shape[-1] > 1:
        x = jnp.sum(x.reshape(x.shape[:-1] + (2, x.shape[-1] // 2)), axis=-2)
    return x[..., 0]


def computed_once(fn, *args):
    """`fn(*args)`, computed into buffers of its own. XLA:CPU fuses elementwise work into each
    consumer, so a result that is gathered from, or read by several passes, is recomputed at
    every read (`lax.optimization_barrier` does not prevent that fusion); the branches of a
    conditional are not fused into their users. Both branches are `fn`: the predicate need only
    be opaque to the compiler."""
    probe = jax.tree.leaves(args)[0].ravel()[0]
    return lax.cond(probe != 0, fn, fn, *args)


@functools.cache
def per_member(body, *static):
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


def first_true(predicate, size, n):
    """Vectorised binary search: per row, the first j in [0, n] where the monotone (False, then
    True) `predicate(j)` holds, n if none: `[size]` int32."""

    def step(_, bounds):
        lo, hi = bounds
        mid = (lo + hi) // 2
        searching = lo < hi
        found = predicate(jnp.minimum(mid, n - 1))
        return (
            jnp.where(searching & ~found, mid + 1, lo),
            jnp.where(searching & found, mid, hi),
        )

    bounds = (jnp.zeros(size, jnp.int32), jnp.full(size, n, jnp.int32))
    return lax.fori_loop(0, n.bit_length() + 1, step, bounds)[0]
