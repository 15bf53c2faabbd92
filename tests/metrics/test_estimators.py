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
