"""Explicitness (with modularity) against a numpy/sklearn transcription of disentanglement_lib's
modularity_explicitness.py."""

import jax
import numpy as np
import pytest
from classifier_cases import CASES, classifier_case
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import MultiLabelBinarizer

from disentax.errors import UserError
from disentax.metrics import modularity, modularity_explicitness
from disentax.metrics.explicitness import macro_auc, roc_auc

# --- reference: disentanglement_lib modularity_explicitness.py / utils.normalize_data ---


def ref_explicitness(codes, factors, test_codes, test_factors):
    mean, std = codes.mean(axis=0), codes.std(axis=0)
    x, x_test = (codes - mean) / std, (test_codes - mean) / std
    train, test = [], []
    for k in range(factors.shape[1]):
        clf = LogisticRegression().fit(x, factors[:, k])
        for split, features, labels in [
            (train, x, factors[:, k]),
            (test, x_test, test_factors[:, k]),
        ]:
            binarised = MultiLabelBinarizer().fit_transform(np.expand_dims(labels, 1))
            split.append(roc_auc_score(binarised, clf.predict_proba(features)))
    return np.mean(train), np.mean(test)


def test_reference_mode_equals_transcription():
    data = classifier_case("noisy")
    ours = modularity_explicitness(*data, mode="reference")
    train, test = ref_explicitness(*data)
    np.testing.assert_allclose(ours["explicitness_train"], train, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours["explicitness_test"], test, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours["modularity"], modularity(*data[:2])["modularity"], atol=0)


# measured on these cases (see the report): |Δ| ≤ 2e-4
@pytest.mark.parametrize("case", CASES)
def test_jax_mode_is_close_to_reference(case):
    data = classifier_case(case)
    ours, reference = (
        modularity_explicitness(*data),
        modularity_explicitness(*data, mode="reference"),
    )
    for key in ("explicitness_train", "explicitness_test"):
        print(
            f"explicitness {case} {key}: jax {float(ours[key]):.5f} ref {float(reference[key]):.5f}"
        )
        np.testing.assert_allclose(ours[key], reference[key], rtol=0, atol=2e-3)


def test_roc_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, size=200).astype(np.float32)
    labels = rng.random(200) < 0.3 + 0.1 * scores
    np.testing.assert_allclose(roc_auc(scores, labels), roc_auc_score(labels, scores), atol=1e-6)


def test_macro_auc_matches_sklearn_per_class_with_ties_signs_and_unseen_labels():
    rng = np.random.default_rng(1)
    scores = rng.integers(-3, 4, size=(300, 5)).astype(np.float32) * 0.5
    scores[:7, 0] = -0.0  # −0 ties with +0
    labels = rng.integers(-1, 5, size=300)  # −1: a label no column claims (negative everywhere)
    labels[labels == 4] = 3  # class 4 has no positives: 0.5
    expected = [roc_auc_score(labels == c, scores[:, c]) for c in range(4)] + [0.5]
    ours = jax.jit(macro_auc)(scores, labels)
    np.testing.assert_allclose(ours, np.mean(expected), rtol=0, atol=1e-6)


def test_sanity_and_degenerate_inputs():
    perfect = modularity_explicitness(*classifier_case("perfect"))
    noise = modularity_explicitness(*classifier_case("pure_noise"))
    assert float(perfect["explicitness_test"]) > 0.95
    assert abs(float(noise["explicitness_test"]) - 0.5) < 0.1
    codes, factors, test_codes, test_factors = classifier_case("perfect")
    constant = modularity_explicitness(
        np.ones_like(codes), factors, np.ones_like(test_codes), test_factors
    )
    np.testing.assert_allclose(constant["explicitness_test"], 0.5, atol=1e-6)
    single, single_test = factors.copy(), test_factors.copy()
    single[:, 1], single_test[:, 1] = 3, 3
    value = modularity_explicitness(codes, single, test_codes, single_test)
    assert all(np.isfinite(float(v)) for v in value.values())
    with pytest.raises(UserError) as info:
        modularity_explicitness(codes, factors[:-1], test_codes, test_factors)
    assert "\n" not in str(info.value)


def test_vmap_over_models_equals_per_model():
    cases = [classifier_case(c, seed=3) for c in ("perfect", "mixed", "noisy")]
    _, factors, _, test_factors = cases[0]
    codes, test_codes = np.stack([c[0] for c in cases]), np.stack([c[2] for c in cases])

    def one(c, t):
        return modularity_explicitness(c, factors, t, test_factors)

    batched = jax.vmap(one)(codes, test_codes)
    for i in range(3):
        for key, value in one(codes[i], test_codes[i]).items():
            np.testing.assert_allclose(batched[key][i], value, atol=1e-5)
