"""SAP (continuous factors) against a numpy port of disentanglement_lib and its golden fixtures."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from metric_cases import identity_case, structured_case

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


def test_discrete_mode_raises_one_line_user_error():
    codes, factors = identity_case(n=100)
    with pytest.raises(UserError, match="continuous_factors=True") as info:
        sap(codes, factors, codes, factors)
    assert "\n" not in str(info.value)


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
