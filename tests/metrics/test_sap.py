"""SAP (continuous and discrete factors) against numpy/sklearn ports of disentanglement_lib and
its golden fixtures."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from classifier_cases import CASES, classifier_case
from metric_cases import identity_case, structured_case
from sklearn.svm import LinearSVC

from disentax.errors import UserError
from disentax.metrics import sap

# --- reference: disentanglement_lib sap_score.py (continuous_factors=True), in float64 ---


def ref_sap_continuous(codes, factors):
    mus = np.asarray(codes, np.float64).T
    ys = np.asarray(factors, np.float64).T
    score_matrix = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            cov_mu_i_y_j = np.cov(mus[i, :], ys[j, :], ddof=1)
            cov_mu_y = cov_mu_i_y_j[0, 1] ** 2
            var_mu = cov_mu_i_y_j[0, 0]
            var_y = cov_mu_i_y_j[1, 1]
            score_matrix[i, j] = cov_mu_y / (var_mu * var_y) if var_mu > 1e-12 else 0.0
    sorted_matrix = np.sort(score_matrix, axis=0)
    return np.mean(sorted_matrix[-1, :] - sorted_matrix[-2, :])


def sap_continuous(codes, factors):
    return sap(codes, factors, codes, factors, continuous_factors=True)["sap"]


# --- fixtures ---


# --- parity with the reference ---


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_disentanglement_lib_reference(seed):
    codes, factors = structured_case(seed)
    np.testing.assert_allclose(
        sap_continuous(codes, factors), ref_sap_continuous(codes, factors), rtol=0, atol=1e-4
    )
    rng = np.random.default_rng(seed)
    real_factors = rng.normal(size=(1500, 3))
    real_codes = np.concatenate(
        [real_factors @ rng.normal(size=(3, 4)), rng.normal(size=(1500, 2))], axis=1
    ) + 0.5 * rng.normal(size=(1500, 6))
    np.testing.assert_allclose(
        sap_continuous(real_codes.astype(np.float32), real_factors.astype(np.float32)),
        ref_sap_continuous(real_codes, real_factors),
        rtol=0,
        atol=1e-4,
    )


def test_constant_code_scores_zero_and_constant_factor_is_left_in_with_zero_gap():
    codes, factors = structured_case(3)
    with_constant = np.concatenate([codes, np.full((len(codes), 1), 3.0, np.float32)], axis=1)
    np.testing.assert_allclose(
        sap_continuous(with_constant, factors), ref_sap_continuous(codes, factors), atol=1e-4
    )
    constant_factor = np.concatenate([factors, np.zeros((len(codes), 1), np.int32)], axis=1)
    np.testing.assert_allclose(
        sap_continuous(codes, constant_factor),
        ref_sap_continuous(codes, factors) * 3 / 4,
        atol=1e-4,
    )


# --- disentanglement_lib sap_score_test golden fixtures (continuous) ---


def test_golden_identity_representation():
    codes, factors = identity_case()
    assert 0.9 <= float(sap_continuous(codes, factors)) <= 1.0


def test_golden_zeros_representation():
    _, factors = identity_case()
    assert 0.0 <= float(sap_continuous(np.zeros((3000, 10), np.float32), factors)) <= 0.2


def test_golden_duplicated_representation():
    codes, factors = identity_case()
    assert 0.0 <= float(sap_continuous(np.hstack([codes, codes]), factors)) <= 0.2


# --- invariants ---


def test_invariant_to_code_permutation_affine_maps_and_sample_order():
    codes, factors = structured_case(4)
    base = float(sap_continuous(codes, factors))
    np.testing.assert_allclose(sap_continuous(codes[:, ::-1], factors), base, rtol=0, atol=1e-6)
    affine = codes * np.array([2.0, -1.0, 0.5, 3.0, 1.0, -4.0], np.float32) + 1.0
    np.testing.assert_allclose(sap_continuous(affine, factors), base, rtol=0, atol=1e-5)
    perm = np.random.default_rng(0).permutation(len(codes))
    np.testing.assert_allclose(sap_continuous(codes[perm], factors[perm]), base, atol=1e-5)


def test_jit_and_vmap_over_population():
    cases = [structured_case(seed) for seed in (7, 8, 9)]
    codes = np.stack([c for c, _ in cases])
    factors = np.stack([f for _, f in cases])
    looped = np.array([float(sap_continuous(c, f)) for c, f in cases])
    batched = jax.vmap(sap_continuous)(codes, factors)
    np.testing.assert_array_equal(batched, looped)
    np.testing.assert_array_equal(jax.jit(jax.vmap(sap_continuous))(codes, factors), looped)
    jitted = jax.jit(sap, static_argnames="continuous_factors")
    value = jitted(codes[0], factors[0], codes[0], factors[0], continuous_factors=True)["sap"]
    np.testing.assert_array_equal(value, looped[0])


# --- bad input ---


# --- discrete factors: disentanglement_lib's LinearSVC score matrix ---


def ref_sap_discrete(codes, factors, test_codes, test_factors):
    score_matrix = np.zeros([codes.shape[1], factors.shape[1]])
    for i in range(codes.shape[1]):
        for j in range(factors.shape[1]):
            classifier = LinearSVC(C=0.01, class_weight="balanced")
            classifier.fit(codes[:, i : i + 1], factors[:, j])
            pred = classifier.predict(test_codes[:, i : i + 1])
            score_matrix[i, j] = np.mean(pred == test_factors[:, j])
    sorted_matrix = np.sort(score_matrix, axis=0)
    return np.mean(sorted_matrix[-1, :] - sorted_matrix[-2, :])


def test_discrete_reference_mode_equals_transcription():
    data = classifier_case("noisy")
    np.testing.assert_allclose(
        sap(*data, mode="reference")["sap"], ref_sap_discrete(*data), rtol=0, atol=1e-6
    )


# measured on these cases (see the report): |ΔSAP| ≤ 0.005
@pytest.mark.parametrize("case", CASES)
def test_discrete_jax_mode_is_close_to_reference(case):
    data = classifier_case(case)
    ours, reference = float(sap(*data)["sap"]), float(sap(*data, mode="reference")["sap"])
    print(f"sap {case}: jax {ours:.4f} ref {reference:.4f}")
    assert abs(ours - reference) <= 0.01


def test_discrete_sanity_and_degenerate_inputs():
    # a 1-D linear one-vs-rest cannot isolate the middle of 3 ordered values: gap ≈ 2/3 − 1/3
    assert float(sap(*classifier_case("permuted"))["sap"]) > 0.25
    assert float(sap(*classifier_case("duplicated"))["sap"]) <= 0.01
    assert float(sap(*classifier_case("pure_noise"))["sap"]) < 0.1
    codes, factors, test_codes, test_factors = classifier_case("perfect")
    assert (
        float(sap(np.ones_like(codes), factors, np.ones_like(test_codes), test_factors)["sap"]) == 0
    )
    single, single_test = factors.copy(), test_factors.copy()
    single[:, 0], single_test[:, 0] = 4, 4
    value = sap(codes, single, test_codes, single_test)["sap"]
    np.testing.assert_allclose(value, sap(*classifier_case("perfect"))["sap"] / 2, atol=0.02)
    with pytest.raises(UserError, match="num_classes"):
        jax.jit(sap)(codes, factors, test_codes, test_factors)
    bad = codes.copy()
    bad[0, 0] = np.nan
    with pytest.raises(UserError):
        sap(bad, factors, test_codes, test_factors)


def test_discrete_vmap_over_models_equals_per_model():
    cases = [classifier_case(c, seed=2) for c in ("perfect", "mixed", "noisy")]
    _, factors, _, test_factors = cases[0]
    codes, test_codes = np.stack([c[0] for c in cases]), np.stack([c[2] for c in cases])
    batched = jax.vmap(lambda c, t: sap(c, factors, t, test_factors)["sap"])(codes, test_codes)
    looped = [
        float(sap(c, factors, t, test_factors)["sap"])
        for c, t in zip(codes, test_codes, strict=True)
    ]
    np.testing.assert_allclose(batched, looped, atol=1e-6)


@pytest.mark.parametrize(
    ("codes_shape", "factors_shape", "test_codes_shape", "test_factors_shape"),
    [
        ((100, 1), (100, 3), (50, 1), (50, 3)),
        ((100, 4), (99, 3), (50, 4), (50, 3)),
        ((100, 4), (100, 3), (50, 4), (49, 3)),
        ((100, 4), (100, 3), (50, 5), (50, 3)),
        ((100, 4), (100, 3), (50, 4), (50, 2)),
        ((100,), (100, 3), (50, 4), (50, 3)),
        ((100, 4), (100, 3, 1), (50, 4), (50, 3)),
    ],
)
def test_bad_shapes_raise_one_line_user_error(
    codes_shape, factors_shape, test_codes_shape, test_factors_shape
):
    with pytest.raises(UserError) as info:
        sap(
            jnp.zeros(codes_shape),
            jnp.zeros(factors_shape, jnp.int32),
            jnp.zeros(test_codes_shape),
            jnp.zeros(test_factors_shape, jnp.int32),
            continuous_factors=True,
        )
    assert "\n" not in str(info.value)


def test_non_static_continuous_factors_raises_user_error():
    x, y = jnp.zeros((10, 2)), jnp.zeros((10, 1), jnp.int32)
    with pytest.raises(UserError):
        jax.jit(sap)(x, y, x, y, continuous_factors=True)
