"""DCI against a numpy/scipy/sklearn transcription of disentanglement_lib's dci.py, its golden
fixtures, and sanity checks of the JAX estimators."""

import jax
import numpy as np
import pytest
import scipy.stats
from classifier_cases import CASES, classifier_case
from sklearn.ensemble import GradientBoostingClassifier

from disentax.errors import UserError
from disentax.metrics import dci
from disentax.metrics.dci import completeness_from_importance, disentanglement_from_importance

# --- reference: disentanglement_lib dci.py, on [N, columns] ---


def ref_disentanglement(m):
    per_code = 1.0 - scipy.stats.entropy(m.T + 1e-11, base=m.shape[1])
    if m.sum() == 0.0:
        m = np.ones_like(m)
    return np.sum(per_code * m.sum(axis=1) / m.sum())


def ref_completeness(m):
    per_factor = 1.0 - scipy.stats.entropy(m + 1e-11, base=m.shape[0])
    if m.sum() == 0.0:
        m = np.ones_like(m)
    return np.sum(per_factor * m.sum(axis=0) / m.sum())


def ref_dci_gbt(codes, factors, test_codes, test_factors, seed=0):
    importance = np.zeros((codes.shape[1], factors.shape[1]))
    train, test = [], []
    for k in range(factors.shape[1]):
        model = GradientBoostingClassifier(random_state=seed + k).fit(codes, factors[:, k])
        importance[:, k] = np.abs(model.feature_importances_)
        train.append(np.mean(model.predict(codes) == factors[:, k]))
        test.append(np.mean(model.predict(test_codes) == test_factors[:, k]))
    return {
        "disentanglement": ref_disentanglement(importance),
        "completeness": ref_completeness(importance),
        "informativeness_train": np.mean(train),
        "informativeness_test": np.mean(test),
    }


# --- golden matrices (disentanglement_lib dci_test.py) and the formula on random matrices ---


def test_golden_importance_matrices():
    diag = np.diag(5.0 * np.ones(5))
    np.testing.assert_allclose(disentanglement_from_importance(diag), 1.0, atol=1e-5)
    np.testing.assert_allclose(disentanglement_from_importance(np.zeros((5, 5))), 0.0, atol=1e-5)
    twice = 1.0 - np.log(2) / np.log(10)
    np.testing.assert_allclose(
        disentanglement_from_importance(np.hstack([diag, diag])), twice, atol=1e-5
    )
    np.testing.assert_allclose(
        completeness_from_importance(np.vstack([diag, diag])), twice, atol=1e-5
    )
    np.testing.assert_allclose(
        completeness_from_importance(np.hstack([diag, diag])), 1.0, atol=1e-5
    )


def test_formulas_match_reference_on_random_matrices():
    rng = np.random.default_rng(0)
    for shape in [(6, 3), (10, 10), (4, 7)]:
        m = rng.exponential(size=shape)
        m[rng.random(shape) < 0.3] = 0.0
        np.testing.assert_allclose(
            disentanglement_from_importance(m), ref_disentanglement(m), atol=1e-5
        )
        np.testing.assert_allclose(completeness_from_importance(m), ref_completeness(m), atol=1e-5)


# --- reference mode is the transcription; JAX mode is close to it ---


def test_reference_mode_equals_transcription():
    data = classifier_case("noisy")
    ours = dci(*data, mode="reference")
    expected = ref_dci_gbt(*data)
    for key, value in expected.items():
        np.testing.assert_allclose(ours[key], value, rtol=0, atol=1e-6, err_msg=key)


SCORES = ("disentanglement", "completeness", "informativeness_train", "informativeness_test")


# measured on these cases (see the report): |ΔD|, |ΔC| ≤ 0.03, |Δaccuracy| ≤ 0.02
@pytest.mark.parametrize("case", CASES)
def test_gbt_jax_mode_is_close_to_reference(case):
    data = classifier_case(case)
    ours, reference = dci(*data), dci(*data, mode="reference")
    for key in SCORES:
        difference = abs(float(ours[key]) - float(reference[key]))
        print(f"dci-gbt {case} {key}: jax {float(ours[key]):.4f} ref {float(reference[key]):.4f}")
        tolerance = 0.03 if key in ("disentanglement", "completeness") else 0.02
        assert difference <= tolerance, (key, difference)


def test_random_forest_jax_mode_is_close_to_reference():
    data = classifier_case("noisy")
    ours = dci(*data, estimator="random_forest")
    reference = dci(*data, estimator="random_forest", mode="reference")
    for key in SCORES:
        print(f"dci-rf noisy {key}: jax {float(ours[key]):.4f} ref {float(reference[key]):.4f}")
        assert abs(float(ours[key]) - float(reference[key])) <= 0.06, key


# --- sanity ---


def test_identity_rotation_duplication_and_noise():
    codes, factors, *_ = classifier_case("perfect")
    perfect = dci(*classifier_case("perfect"))
    importance = np.asarray(perfect["importance"])
    assert importance.shape == (codes.shape[1], factors.shape[1])
    # each factor is read from its own code
    assert len(set(np.argmax(importance, axis=0).tolist())) == factors.shape[1]
    mixed = dci(*classifier_case("mixed"))
    duplicated = dci(*classifier_case("duplicated"))
    noise = dci(*classifier_case("pure_noise"))
    assert float(perfect["disentanglement"]) > 0.9 and float(perfect["completeness"]) > 0.9
    assert float(perfect["informativeness_test"]) == 1.0
    assert float(mixed["disentanglement"]) < float(perfect["disentanglement"]) - 0.3
    # duplicated codes split the importance (random tie-breaks, as sklearn's feature order)
    assert float(duplicated["completeness"]) < 0.8
    assert float(duplicated["disentanglement"]) > 0.9
    assert float(noise["informativeness_test"]) < 0.45


def test_constant_codes_and_single_valued_factor_are_defined():
    codes, factors, test_codes, test_factors = classifier_case("perfect")
    constant = dci(np.ones_like(codes), factors, np.ones_like(test_codes), test_factors)
    assert float(constant["disentanglement"]) == 0.0 and float(constant["completeness"]) == 0.0
    np.testing.assert_allclose(constant["informativeness_test"], 0.4, atol=0.1)  # the majority
    single = factors.copy()
    single[:, 1] = 7
    single_test = test_factors.copy()
    single_test[:, 1] = 7
    for mode in ("jax", "reference"):
        value = dci(codes, single, test_codes, single_test, mode=mode)
        assert all(np.all(np.isfinite(np.asarray(v))) for v in value.values())
        assert float(value["disentanglement"]) > 0.9  # all importance on factor 0


def test_vmap_over_models_equals_per_model():
    cases = [classifier_case(c, seed=1) for c in ("perfect", "mixed", "noisy")]
    _, factors, _, test_factors = cases[0]
    codes = np.stack([c[0] for c in cases])
    test_codes = np.stack([c[2] for c in cases])

    def one(c, t):
        return dci(c, factors, t, test_factors)

    batched = jax.vmap(one)(codes, test_codes)
    for i in range(3):
        single = one(codes[i], test_codes[i])
        for key in SCORES:
            # batched float32 sums may round differently and flip a near-tie split
            np.testing.assert_allclose(batched[key][i], single[key], atol=2e-3)


# --- bad input ---


@pytest.mark.parametrize("bad", ["mismatched_n", "nan", "one_factor", "estimator", "float"])
def test_bad_input_raises_one_line_user_error(bad):
    codes, factors, test_codes, test_factors = classifier_case("perfect")
    kwargs = {}
    if bad == "mismatched_n":
        factors = factors[:-1]
    elif bad == "nan":
        codes = codes.copy()
        codes[3, 1] = np.nan
    elif bad == "one_factor":
        factors, test_factors = factors[:, :1], test_factors[:, :1]
    elif bad == "estimator":
        kwargs = {"estimator": "svm"}
    elif bad == "float":  # floats holding integers are factors; others are not
        factors = factors.astype(np.float32) + 0.5
    with pytest.raises(UserError) as info:
        dci(codes, factors, test_codes, test_factors, **kwargs)
    assert "\n" not in str(info.value)


def test_traced_factors_need_num_classes():
    codes, factors, test_codes, test_factors = classifier_case("perfect")
    with pytest.raises(UserError, match="num_classes"):
        jax.jit(dci)(codes, factors, test_codes, test_factors)


@pytest.mark.parametrize("shape", [(6, 3), (10, 5), (4, 2), (3, 7)])
def test_scores_of_zero_importance_stay_in_the_unit_interval(shape):
    """R = 0 (every factor constant): the uniform rows give 1 − H/log = 0 up to float32
    rounding, which left completeness at −1.2e-7 for 6 codes and 3 factors; both scores are
    clipped to [0, 1]."""
    zero = np.zeros(shape, np.float32)
    for score in (disentanglement_from_importance, completeness_from_importance):
        assert 0.0 <= float(score(zero)) <= 1.2e-7


def test_dci_of_constant_factors_is_in_range():
    rng = np.random.default_rng(3)
    codes = rng.normal(size=(100, 6)).astype(np.float32)
    constant = np.zeros((100, 3), np.int32)
    scores = dci(codes, constant, codes, constant)
    for key in ("disentanglement", "completeness", "informativeness_train", "informativeness_test"):
        assert 0.0 <= float(scores[key]) <= 1.0, key
