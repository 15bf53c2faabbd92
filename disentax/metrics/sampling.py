"""Sampling shared by the interventional metrics: exactly uniform factors from few random bits,
and how many images one representation call renders."""

import math

import jax
import jax.extend.random
import jax.numpy as jnp

_PIXELS_PER_CALL = 1 << 20  # rendered values per representation call by default (4 MiB)
_WORD_PRODUCT = 1 << 16  # largest product of factor sizes packed into one 32-bit word
_BLOCK = 256  # factor vectors per block of words redrawn together after a rejection
_REDRAW_BLOCKS = 8  # blocks redrawn per round


def default_images_per_call(dataset) -> int:
    """max(1, ⌊2^20 / (H·W·C)⌋) images per representation call: 256 of 64×64×1. Rendering more
    at once leaves the cache (dsprites_procedural: about 1 µs per image in calls of 256–1,024
    images, 10 µs in calls of 4,096)."""
    return max(1, _PIXELS_PER_CALL // math.prod(dataset.observation_shape))


def uniform_factors(key, factor_sizes: tuple[int, ...], n: int):
    """n i.i.d. factor vectors, each factor exactly uniform on 0..size_k − 1: int32 `[n, K]`.

    The factors are packed in groups of product P ≤ 2^16, one 32-bit Threefry word u per group
    and vector (`jax.extend.random.threefry_2x32` over a counter, one hash per two words;
    `jax.random.randint` spends two hashes per value). A word is accepted iff u < P·⌊2^32/P⌋, a
    multiple of P, so v = u mod P is exactly uniform on 0..P − 1 and its mixed-radix digits
    (last factor fastest) are independent and exactly uniform. A rejected word (probability
    < P/2^32 ≤ 2^−16) is replaced by a fresh word: each round redraws the words of up to
    `_REDRAW_BLOCKS` blocks of `_BLOCK` vectors that hold one, from `fold_in(key, round)`,
    until none is left. Same key, same factors.
    """
    groups = _word_groups(factor_sizes)
    products = [math.prod(factor_sizes[k] for k in group) for group in groups]
    largest_accepted = jnp.asarray([2**32 - 1 - 2**32 % p for p in products], jnp.uint32)
    num_blocks = -(-n // _BLOCK)

    def draw(draw_key, num):
        counter = jax.lax.iota(jnp.uint32, num * _BLOCK * len(groups))
        words = jax.extend.random.threefry_2x32(jax.random.bits(draw_key, (2,)), counter)
        return words.reshape(num, _BLOCK, len(groups))

    def redraw(state):
        attempt, words = state
        rejected = jnp.any(words > largest_accepted, axis=(1, 2))
        (blocks,) = jnp.nonzero(rejected, size=_REDRAW_BLOCKS, fill_value=num_blocks)
        old = words.at[blocks].get(mode="fill", fill_value=0)
        fresh = draw(jax.random.fold_in(key, attempt), _REDRAW_BLOCKS)
        new = jnp.where(old > largest_accepted, fresh, old)
        return attempt + 1, words.at[blocks].set(new, mode="drop")

    def any_rejected(state):
        return jnp.any(state[1] > largest_accepted)

    _, words = jax.lax.while_loop(any_rejected, redraw, (jnp.uint32(1), draw(key, num_blocks)))
    words = words.reshape(num_blocks * _BLOCK, len(groups))[:n]
    columns = [None] * len(factor_sizes)
    for g, (group, product) in enumerate(zip(groups, products, strict=True)):
        v = words[:, g] % jnp.uint32(product)
        for k in reversed(group):
            quotient = v // jnp.uint32(factor_sizes[k])
            columns[k] = v - quotient * jnp.uint32(factor_sizes[k])
            v = quotient
    return jnp.stack(columns, axis=1).astype(jnp.int32)


def _word_groups(factor_sizes):
    """Consecutive factor indices grouped so that each group's product of sizes is ≤ 2^16
    (a larger factor alone)."""
    groups, product = [[]], 1
    for k, size in enumerate(factor_sizes):
        if groups[-1] and product * size > _WORD_PRODUCT:
            groups.append([])
            product = 1
        groups[-1].append(k)
        product *= size
    return groups
