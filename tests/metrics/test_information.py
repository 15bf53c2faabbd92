"""The discrete information kernels (discretisation, label counts, plug-in mutual information and
entropy) against numpy + sklearn ports of disentanglement_lib's."""

import functools

import jax
import numpy as np
from metric_cases import ref_discretize, ref_entropy, ref_mutual_info

from disentax.metrics import (
    discrete_entropy,
    discrete_mutual_info,
    histogram_discretize,
    information,
)


def test_mutual_info_arbitrary_labels():
    rng = np.random.default_rng(3)
    a = rng.choice(np.array([-(10**6), 3, 7, 100, 2**30]), size=(500, 3))
    b = np.stack([a[:, 0] * 2 + 1, rng.integers(-3, 3, size=500), a[:, 1] % 2], axis=1)
    np.testing.assert_allclose(
        discrete_mutual_info(a.astype(np.int32), b.astype(np.int32)),
        ref_mutual_info(a, b),
        rtol=0,
        atol=1e-5,
    )
    np.testing.assert_allclose(discrete_entropy(a.astype(np.int32)), ref_entropy(a), atol=1e-5)


def test_constant_column_discretised_like_numpy():
    codes = np.stack([np.full(50, 3.25), np.linspace(-1.0, 1.0, 50)], axis=1).astype(np.float32)
    np.testing.assert_array_equal(histogram_discretize(codes), ref_discretize(codes))


def test_label_types_match_sklearn():
    """Offsets of narrow and unsigned integers, and ranked float labels with -0.0 == 0.0."""
    rng = np.random.default_rng(11)
    n = 400
    columns = [
        rng.integers(-128, 128, n).astype(np.int8),  # span 256: offsets overflow int8
        (2**31 - 3 + rng.integers(0, 6, n)).astype(np.uint32),  # offsets across 2**31
        rng.choice(np.array([-0.0, 0.0, 0.5, -1.5], np.float32), n),
    ]
    other = rng.integers(0, 3, (n, 2)).astype(np.int32)
    for column in columns:
        codes = np.unique(column, return_inverse=True)[1].reshape(n, 1)  # numpy: -0.0 == 0.0
        np.testing.assert_allclose(
            discrete_mutual_info(column[:, None], other), ref_mutual_info(codes, other), atol=1e-5
        )
    np.testing.assert_allclose(discrete_entropy(column[:, None]), ref_entropy(codes), atol=1e-5)


def test_count_paths_agree(monkeypatch):
    """The sum over contingency-table cells and the per-sample sum, with the joint counts from
    sorted packed keys or sorted key pairs, agree (the two sorts exactly)."""
    rng = np.random.default_rng(12)
    x = rng.integers(0, 5, (300, 3)).astype(np.int32)
    y = rng.integers(0, 7, (300, 2)).astype(np.int32)

    def mutual_info(x_size, y_size):  # traced afresh: the path is chosen while tracing
        traced = functools.partial(information.mutual_info_of_labels)
        return np.asarray(jax.jit(traced, static_argnums=(1, 3))(x, x_size, y, y_size))

    table = mutual_info(5, 7)
    np.testing.assert_allclose(table, ref_mutual_info(x, y), rtol=0, atol=1e-6)
    monkeypatch.setattr(information, "_TABLE_CELLS", 0)
    packed = mutual_info(5, 7)  # one uint32 key per pair
    np.testing.assert_allclose(packed, table, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(mutual_info(2**17, 2**17), packed)  # key pairs


def test_population_counts_fold_or_map(monkeypatch):
    """Counting under vmap: members folded into one bincount, or one after another."""
    index = np.random.default_rng(13).integers(0, 50, (4, 3, 200)).astype(np.int32)
    expected = np.stack([np.bincount(i.ravel(), minlength=50)[i] for i in index])
    counts_at = information._counts_at(50)
    np.testing.assert_array_equal(jax.vmap(counts_at)(index), expected)
    monkeypatch.setattr(information, "_TABLE_CELLS", 100)
    np.testing.assert_array_equal(jax.jit(jax.vmap(counts_at))(index), expected)
    nested = jax.vmap(jax.vmap(counts_at))(index.reshape(2, 2, 3, 200))
    np.testing.assert_array_equal(nested, expected.reshape(2, 2, 3, 200))
