"""The float32 <-> int32 order-key map: order, equality, mirror symmetry and exact inversion."""

import jax
import jax.numpy as jnp
import numpy as np

from disentax.metrics.ordering import from_order_keys, order_keys


def test_order_keys_sort_like_the_floats_and_invert_exactly():
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.normal(size=200) * 10.0 ** rng.integers(-30, 30, size=200),
            [0.0, -0.0, np.inf, -np.inf],
        ]
    ).astype(np.float32)
    keys = np.asarray(order_keys(jnp.asarray(x)))
    assert keys.dtype == np.int32
    np.testing.assert_array_equal(np.sort(x), x[np.argsort(keys, kind="stable")])
    for compare in (np.less, np.equal):  # pairwise, as the floats (−0 equal to 0)
        np.testing.assert_array_equal(compare.outer(keys, keys), compare.outer(x, x))
    np.testing.assert_array_equal(from_order_keys(jnp.asarray(keys)), x)


def test_subnormals_get_the_key_of_zero_exactly_when_the_backend_compares_them_equal():
    tiny = np.float32(np.finfo(np.float32).tiny / 4)
    x = jnp.asarray([tiny, -tiny, 0.0], jnp.float32)
    flushed = bool(jax.jit(lambda x: x[0] == 0)(x))
    keys = np.asarray(order_keys(x))
    assert (keys[0] == keys[2] == keys[1]) == flushed
    assert (keys[1] < keys[2] < keys[0]) == (not flushed)


def test_positive_keys_are_the_bit_patterns_and_negatives_mirror_them():
    x = np.array([1.0, 2.5, 3e-30, np.inf], np.float32)
    keys = np.asarray(order_keys(jnp.asarray(np.concatenate([x, -x]))))
    np.testing.assert_array_equal(keys[:4], x.view(np.int32))  # 1.0 -> 0x3F800000
    np.testing.assert_array_equal(keys[4:], -1 - x.view(np.int32))  # key(−x) = −1 − key(x)
    assert order_keys(jnp.float32(-0.0)) == 0
