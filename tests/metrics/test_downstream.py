"""Downstream task accuracies against a sklearn transcription of disentanglement_lib's
downstream_task.py (LogisticRegressionCV with 5 folds, 10 Cs)."""

import warnings

import jax
import numpy as np
import pytest
from classifier_cases import IdentityData, classifier_case, identity_representation
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import KFold

from disentax.errors import UserError
from disentax.metrics import downstream, downstream_accuracies


def ref_accuracies(codes, factors, test_codes, test_factors):
    train, test = [], []
    for k in range(factors.shape[1]):
        model = LogisticRegressionCV(Cs=10, cv=KFold(n_splits=5), scoring="accuracy")
        with warnings.catch_warnings():  # sklearn 1.9's notices of 1.10 defaults
            warnings.simplefilter("ignore", FutureWarning)
            model.fit(codes, factors[:, k])
        train.append(np.mean(model.predict(codes) == factors[:, k]))
        test.append(np.mean(model.predict(test_codes) == test_factors[:, k]))
    return np.array(train), np.array(test)


def test_reference_mode_equals_transcription_and_jax_is_close():
    data = classifier_case("noisy")
    train, test = ref_accuracies(*data)
    reference = downstream_accuracies(*data, mode="reference")
    np.testing.assert_allclose(reference["train"], train, atol=1e-6)
    np.testing.assert_allclose(reference["test"], test, atol=1e-6)
    ours = downstream_accuracies(*data)
    print(f"downstream noisy test: jax {np.asarray(ours['test'])} ref {test}")
    np.testing.assert_allclose(ours["test"], test, atol=0.02)
    np.testing.assert_allclose(ours["train"], train, atol=0.02)


def test_dlib_form_keys_and_identity_scores():
    scores = downstream(
        IdentityData(), identity_representation, jax.random.PRNGKey(0), num_train=50, num_test=50
    )
    assert len(scores) == 4 + 2 * 4
    assert float(scores["50:mean_test_accuracy"]) >= 0.9
    assert float(scores["50:min_test_accuracy"]) <= float(scores["50:mean_test_accuracy"])
    assert 0.0 <= float(scores["50:test_accuracy_factor_3"]) <= 1.0


def test_bad_input_raises_one_line_user_error():
    codes, factors, test_codes, test_factors = classifier_case("perfect")
    for kwargs in ({"estimator": "svm"}, {"mode": "fast"}):
        with pytest.raises(UserError) as info:
            downstream_accuracies(codes, factors, test_codes, test_factors, **kwargs)
        assert "\n" not in str(info.value)
    with pytest.raises(UserError):
        downstream(IdentityData(), identity_representation, jax.random.PRNGKey(0), num_train=(1,))
