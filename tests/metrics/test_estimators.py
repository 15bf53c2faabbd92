"""The JAX estimators against sklearn's, fitted to convergence on the same data."""

import jax
import numpy as np
import pytest
from classifier_cases import classifier_case
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from disentax.metrics import estimators


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
    params = estimators.fit_logistic_regression(x, y, num_classes)
    sk = LogisticRegression(tol=1e-10, max_iter=10000).fit(x, y)
    np.testing.assert_allclose(
        estimators.logistic_regression_proba(params, x), sk.predict_proba(x), atol=2e-4
    )
    np.testing.assert_array_equal(estimators.linear_predict(params, x), sk.predict(x))


def test_logistic_regression_warm_starts_reach_the_same_optimum():
    x, y = _problem(3)
    sk = LogisticRegression(tol=1e-10, max_iter=10000).fit(x, y).predict_proba(x)
    # coarse=64: Newton starts from the fit of every 4th sample (at C = 4)
    coarse = estimators.fit_logistic_regression(x, y, 3, coarse=64)
    # from a far start (100·(W, b) of a rough fit)
    rough = estimators.fit_logistic_regression(x, y, 3, steps=1)
    far = estimators.fit_logistic_regression(x, y, 3, init=jax.tree.map(lambda p: 100 * p, rough))
    for params in (coarse, far):
        proba = estimators.logistic_regression_proba(params, x)
        np.testing.assert_allclose(proba, sk, atol=2e-4)


@pytest.mark.parametrize(("num_classes", "ties"), [(2, False), (3, False), (5, True)])
def test_linear_svc_matches_liblinear(num_classes, ties):
    x, y = _problem(num_classes, seed=1)
    x = np.round(x[:, 0]) if ties else x[:, 0]  # ties: few distinct values
    W, b = estimators.fit_linear_svc_1d(x, y, num_classes)
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
    model, importance = estimators.fit_gbt(x, y, jax.random.PRNGKey(0), 3)
    sk = GradientBoostingClassifier(random_state=0).fit(x, y)
    agreement = np.mean(np.asarray(estimators.gbt_predict(model, x_test)) == sk.predict(x_test))
    assert agreement >= 0.98
    np.testing.assert_allclose(importance, sk.feature_importances_, atol=0.02)


def test_encode_labels_and_unseen_test_labels():
    y, y_test = estimators.encode_labels(np.array([7, 3, 3, 100]), np.array([100, 5, 3]), 3)
    np.testing.assert_array_equal(y, [1, 0, 0, 2])
    np.testing.assert_array_equal(y_test, [2, -1, 0])


def test_quantile_bins_separate_every_distinct_value_when_few():
    x = np.repeat(np.arange(6.0, dtype=np.float32), 50)[:, None]
    bins = estimators.apply_bins(x, estimators.quantile_edges(x, 32))
    assert len(np.unique(np.asarray(bins))) == 6
    assert np.all(np.diff(np.asarray(bins)[:, 0]) >= 0)


def test_apply_bins_counts_the_edges_below_like_searchsorted():
    rng = np.random.default_rng(2)
    x = np.round(rng.normal(size=(500, 3)), 1).astype(np.float32)  # ties with the edges
    edges = estimators.quantile_edges(x, 8)
    expected = np.stack(
        [np.searchsorted(e, x[:, f], side="left") for f, e in enumerate(np.asarray(edges))], 1
    )
    np.testing.assert_array_equal(estimators.apply_bins(x, edges), expected)
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
    gain = np.asarray(estimators._entropy_gain(left, right))
    np.testing.assert_allclose(gain[valid], expected[valid], atol=2e-5)
    assert np.all(gain[~valid] == -np.inf)
