"""The JAX estimators against sklearn's, fitted to convergence on the same data."""

import functools

import jax
import numpy as np
import pytest
from classifier_cases import classifier_case
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from disentax.metrics.estimators import encoding, gbt, logistic, svm, trees


def _problem(num_classes, seed=0, n=300):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, num_classes, size=n)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    x[:, 0] += y
    x[:, 1] -= 0.5 * y
    return x, y


@pytest.mark.parametrize("num_classes", [2, 3])
def test_logistic_regression_matches_converged_sklearn(num_classes):
    x, y = _problem(num_classes)
    params = logistic.fit_logistic_regression(x, y, num_classes)
    sk = LogisticRegression(tol=1e-10, max_iter=10000).fit(x, y)
    np.testing.assert_allclose(
        logistic.logistic_regression_proba(params, x), sk.predict_proba(x), atol=2e-4
    )
    np.testing.assert_array_equal(encoding.linear_predict(params, x), sk.predict(x))


def test_logistic_regression_warm_starts_reach_the_same_optimum():
    x, y = _problem(3)
    sk = LogisticRegression(tol=1e-10, max_iter=10000).fit(x, y).predict_proba(x)
    # coarse=64: Newton starts from the fit of every 4th sample (at C = 4)
    coarse = logistic.fit_logistic_regression(x, y, 3, coarse=64)
    # from a far start (100·(W, b) of a rough fit)
    rough = logistic.fit_logistic_regression(x, y, 3, steps=1)
    far = logistic.fit_logistic_regression(x, y, 3, init=jax.tree.map(lambda p: 100 * p, rough))
    for params in (coarse, far):
        proba = logistic.logistic_regression_proba(params, x)
        np.testing.assert_allclose(proba, sk, atol=2e-4)


def test_line_search_objective_change_is_exact_at_large_n():
    """Newton's line search at N = 20,000, 40 classes: the objective Σ_n CE_n (~10⁵ here)
    resolves only ~10⁻² in float32, so comparing two float32 objectives saw "no decrease" too
    soon (at t = 10⁻⁷ their difference is 0.0, the change −5·10⁻⁶). The summed per-sample
    change CE(z + tδ) − CE(z) matches the float64 difference of the objectives within 10⁻³ of
    the change, for steps t from 10⁻⁷ to 30 (where e^δ overflows float32)."""
    rng = np.random.default_rng(0)
    n, c = 20_000, 40
    z = (2.0 * rng.normal(size=(n, c))).astype(np.float32)
    direction = rng.normal(size=(n, c)).astype(np.float32)
    y = rng.integers(0, c, n)
    one_hot = np.eye(c, dtype=np.float32)[y]

    def objective64(logits):
        logits = logits.astype(np.float64)
        top = logits.max(axis=1)
        lse = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
        return np.sum(lse - logits[np.arange(n), y])

    p, log_p = jax.nn.softmax(z), jax.nn.log_softmax(z)
    for t in (1e-7, 1e-3, 1.0, 30.0):
        delta = (np.float32(t) * direction).astype(np.float32)
        expected = objective64(z + delta.astype(np.float64)) - objective64(z)
        got = np.sum(
            np.asarray(logistic._cross_entropy_change(p, log_p, delta, one_hot), np.float64)
        )
        assert abs(got - expected) <= 1e-3 * abs(expected), (t, got, expected)


@pytest.mark.parametrize(("num_classes", "ties"), [(2, False), (3, False), (5, True)])
def test_linear_svc_matches_liblinear(num_classes, ties):
    x, y = _problem(num_classes, seed=1)
    x = np.round(x[:, 0]) if ties else x[:, 0]  # ties: few distinct values
    W, b = svm.fit_linear_svc_1d(x, y, num_classes)
    sk = LinearSVC(C=0.01, class_weight="balanced", tol=1e-10, max_iter=100000)
    sk.fit(x[:, None], y)
    np.testing.assert_allclose(np.asarray(W).T, sk.coef_, atol=1e-4)
    np.testing.assert_allclose(b, sk.intercept_, atol=1e-4)


def test_gbt_with_few_distinct_values_matches_sklearn_exactly():
    # integer features with fewer distinct values than bins: histogram splits are exact splits
    codes, factors, test_codes, test_factors = classifier_case("perfect")
    rng = np.random.default_rng(0)
    x = np.round(codes + rng.normal(size=codes.shape) * 0.7).astype(np.float32)
    x_test = np.round(test_codes + rng.normal(size=test_codes.shape) * 0.7).astype(np.float32)
    y = np.searchsorted([0, 1, 2], factors[:, 0])
    model, importance = gbt.fit_gbt(x, y, jax.random.PRNGKey(0), 3)
    sk = GradientBoostingClassifier(random_state=0).fit(x, y)
    agreement = np.mean(np.asarray(gbt.gbt_predict(model, x_test)) == sk.predict(x_test))
    assert agreement >= 0.98
    np.testing.assert_allclose(importance, sk.feature_importances_, atol=0.02)


def test_encode_labels_and_unseen_test_labels():
    y, y_test = encoding.encode_labels(np.array([7, 3, 3, 100]), np.array([100, 5, 3]), 3)
    np.testing.assert_array_equal(y, [1, 0, 0, 2])
    np.testing.assert_array_equal(y_test, [2, -1, 0])


def test_quantile_bins_separate_every_distinct_value_when_few():
    x = np.repeat(np.arange(6.0, dtype=np.float32), 50)[:, None]
    bins = trees.apply_bins(x, trees.quantile_edges(x, 32))
    assert len(np.unique(np.asarray(bins))) == 6
    assert np.all(np.diff(np.asarray(bins)[:, 0]) >= 0)


def test_apply_bins_counts_the_edges_below_like_searchsorted():
    rng = np.random.default_rng(2)
    x = np.round(rng.normal(size=(500, 3)), 1).astype(np.float32)  # ties with the edges
    edges = trees.quantile_edges(x, 8)
    expected = np.stack(
        [np.searchsorted(e, x[:, f], side="left") for f, e in enumerate(np.asarray(edges))], 1
    )
    np.testing.assert_array_equal(trees.apply_bins(x, edges), expected)
    np.testing.assert_array_equal(
        edges,
        np.stack(
            [
                np.sort(c)[[61, 124, 186, 249, 311, 374, 436]] * 0.5
                + np.sort(c)[[62, 125, 187, 250, 312, 375, 437]] * 0.5
                for c in x.T
            ]
        ),
    )


def test_entropy_gain_is_the_decrease_of_weighted_entropy():
    rng = np.random.default_rng(3)
    hist = rng.integers(0, 4, size=(2, 3, 5, 4)).astype(np.float32)  # [nodes, features, bins, C]
    left = np.cumsum(hist, axis=2)
    right = left[:, :, -1:, :] - left

    def weighted_entropy(counts):  # W·H(counts / W) in nats
        total = counts.sum(-1)
        p = counts / np.maximum(total, 1)[..., None]
        return -total * np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0), axis=-1)

    expected = weighted_entropy(left + right) - weighted_entropy(left) - weighted_entropy(right)
    valid = (left.sum(-1) >= 1) & (right.sum(-1) >= 1)
    gain = np.asarray(trees._entropy_gain(left, right))
    np.testing.assert_allclose(gain[valid], expected[valid], atol=2e-5)
    assert np.all(gain[~valid] == -np.inf)


def _weighted_entropy_decrease(node, sample_bins, labels, width, num_bins, num_classes):
    """numpy: W·H(parent) − W·H(left) − W·H(right) for every (node, candidate, bin ≤ t) split,
    −inf where a side is empty: `-> [width, k, num_bins]`."""

    def weighted_entropy(counts):
        total = counts.sum()
        p = counts[counts > 0] / total
        return -total * np.sum(p * np.log(p))

    k = sample_bins.shape[1]
    gain = np.full((width, k, num_bins), -np.inf)
    for w in range(width):
        for j in range(k):
            at = node == w
            for t in range(num_bins):
                left = at & (sample_bins[:, j] <= t)
                right = at & (sample_bins[:, j] > t)
                if left.any() and right.any():
                    counts = [
                        np.bincount(labels[m], minlength=num_classes) for m in (at, left, right)
                    ]
                    gain[w, j, t] = (
                        weighted_entropy(counts[0])
                        - weighted_entropy(counts[1])
                        - weighted_entropy(counts[2])
                    )
    return gain


@pytest.mark.parametrize("width", [4, 64])  # a dense class histogram, then the sort
def test_entropy_level_gain_is_the_decrease_of_weighted_entropy(width):
    rng = np.random.default_rng(4)
    n, k, num_bins, num_classes = 300, 2, 6, 5
    node = rng.integers(0, min(width, 8), n).astype(np.int32)  # 8 nodes hold the samples
    sample_bins = rng.integers(0, num_bins, (n, k)).astype(np.int32)
    labels = rng.integers(0, num_classes, n).astype(np.int32)
    assert (width * num_bins * (num_classes + 2) > 6 * n) == (width == 64)
    level_gain = jax.jit(trees.entropy_level_gain, static_argnums=(1, 2, 5))
    gain = np.asarray(level_gain(labels, num_classes, num_bins, node, sample_bins, width))
    expected = _weighted_entropy_decrease(node, sample_bins, labels, width, num_bins, num_classes)
    np.testing.assert_array_equal(np.isfinite(gain), np.isfinite(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(gain[finite], expected[finite], atol=2e-4)


def test_first_max_index_is_argmax_with_ties_and_infinities():
    rng = np.random.default_rng(5)
    z = rng.integers(0, 3, size=(200, 7)).astype(np.float32)  # many ties
    z[:5] = -np.inf
    z[5:10, 3] = np.inf
    np.testing.assert_array_equal(encoding.first_max_index(z), np.argmax(z, axis=-1))


def test_grow_tree_level_groups_give_the_same_tree():
    rng = np.random.default_rng(6)
    n, depth, num_bins, num_classes = 400, 2, 8, 4
    bins = rng.integers(0, num_bins, (n, 6)).astype(np.int32)
    labels = rng.integers(0, num_classes, n).astype(np.int32)
    bins[:, 0] = np.minimum(labels * 2 + rng.integers(0, 2, n), num_bins - 1)  # informative
    noise = jax.random.uniform(jax.random.PRNGKey(0), (2, 2**depth - 1, 6))
    gain = functools.partial(trees.entropy_level_gain, labels, num_classes, num_bins)
    grow = functools.partial(trees.grow_tree, bins, gain, depth, num_bins, noise, 2)
    one_by_one, grouped = jax.jit(grow)(), jax.jit(functools.partial(grow, schedule=(2,)))()
    for a, b in zip(jax.tree.leaves(one_by_one), jax.tree.leaves(grouped), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert float(one_by_one[1][0]) > 0  # it split on the informative feature


def test_smallest_is_the_start_of_a_stable_argsort():
    rng = np.random.default_rng(7)
    x = np.round(rng.random((300, 10)), 1).astype(np.float32)  # many ties
    expected = np.argsort(x, axis=1, kind="stable")[:, :3]
    np.testing.assert_array_equal(trees._smallest(x, 3), expected)


@pytest.mark.parametrize("shape", [(4, 3, 8, 5), (16, 2, 32)])
def test_cumulative_counts_is_the_cumulative_sum_over_bins(shape):
    hist = np.random.default_rng(8).integers(0, 3000, shape)
    for dtype in (np.float32, np.int32):
        counts = trees._cumulative_counts(hist.astype(dtype))
        assert counts.dtype == dtype
        np.testing.assert_array_equal(counts, np.cumsum(hist, axis=2))


def test_flat_uniform_draws_are_jax_random_uniform():
    key = jax.random.PRNGKey(3)
    shape = (3, 2, 7, 5)
    np.testing.assert_array_equal(trees.uniform(key, shape), jax.random.uniform(key, shape))
