"""Modularity against a numpy + sklearn port of disentanglement_lib and its golden fixtures."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from metric_cases import identity_case, ref_discretize, ref_mutual_info, structured_case

from disentax.errors import UserError
from disentax.metrics import modularity, modularity_from_mutual_info

# --- reference: disentanglement_lib utils.py / modularity_explicitness.py, on [N, columns] ---


def ref_modularity_from_mi(mutual_information):
    squared_mi = np.square(mutual_information)
    max_squared_mi = np.max(squared_mi, axis=1)
    numerator = np.sum(squared_mi, axis=1) - max_squared_mi
    denominator = max_squared_mi * (squared_mi.shape[1] - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        modularity_score = 1.0 - numerator / denominator
    modularity_score[max_squared_mi == 0.0] = 0.0
    return np.mean(modularity_score)


def ref_modularity(codes, factors, num_bins=20):
    return ref_modularity_from_mi(ref_mutual_info(ref_discretize(codes, num_bins), factors))


# --- fixtures ---


# --- parity with the reference ---


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_disentanglement_lib_reference(seed):
    codes, factors = structured_case(seed)
    np.testing.assert_allclose(
        modularity(codes, factors)["modularity"], ref_modularity(codes, factors), rtol=0, atol=1e-4
    )


def test_matrix_level_matches_reference_on_random_matrices():
    rng = np.random.default_rng(0)
    for shape in [(6, 3), (10, 10), (4, 7)]:
        m = rng.exponential(size=shape)
        m[rng.random(shape) < 0.3] = 0.0
        m[0] = 0.0  # a code with no information scores 0
        np.testing.assert_allclose(
            modularity_from_mutual_info(m.astype(np.float32)),
            ref_modularity_from_mi(m),
            rtol=0,
            atol=1e-5,
        )


# --- disentanglement_lib modularity_explicitness_test golden fixtures ---


def test_golden_matrices():
    diag = np.diag(5.0 * np.ones(5, np.float32))
    cases = [
        (diag, 1.0),
        (np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], np.float32), 2.0 / 3.0),
        (np.zeros((10, 10), np.float32), 0.0),
        (np.vstack([diag, diag]), 1.0),
        (diag[:2], 1.0),
        (np.hstack([diag, diag]), 1.0 - 1.0 / 9.0),
    ]
    for matrix, expected in cases:
        np.testing.assert_allclose(modularity_from_mutual_info(matrix), expected, atol=1e-6)


def test_golden_identity_and_duplicated_representation():
    codes, factors = identity_case()
    assert 0.9 <= float(modularity(codes, factors)["modularity"]) <= 1.0
    assert 0.9 <= float(modularity(np.hstack([codes, codes]), factors)["modularity"]) <= 1.0


def test_golden_random_permutation_representation():
    codes, factors = identity_case(n=20000, seed=1)
    rng = np.random.default_rng(0)
    permuted = np.stack([rng.permutation(row) for row in codes])
    assert 0.0 <= float(modularity(permuted, factors)["modularity"]) <= 0.2


def test_single_factor_code_with_information_scores_one():
    np.testing.assert_allclose(modularity_from_mutual_info(np.array([[0.5], [0.0]])), 0.5)


# --- invariants ---


def test_invariant_to_code_and_factor_permutation_and_sample_order():
    codes, factors = structured_case(4)
    base = float(modularity(codes, factors)["modularity"])
    np.testing.assert_allclose(modularity(codes[:, ::-1], factors)["modularity"], base, atol=1e-6)
    np.testing.assert_allclose(modularity(codes, factors[:, ::-1])["modularity"], base, atol=1e-6)
    perm = np.random.default_rng(0).permutation(len(codes))
    np.testing.assert_allclose(
        modularity(codes[perm], factors[perm])["modularity"], base, rtol=0, atol=1e-6
    )


def test_constant_codes_give_zero():
    _, factors = structured_case(5)
    value = modularity(np.full((len(factors), 6), 7.0, np.float32), factors)["modularity"]
    assert np.isfinite(value) and float(value) == 0.0


def test_jit_and_vmap_over_population():
    cases = [structured_case(seed) for seed in (7, 8, 9)]
    codes = np.stack([c for c, _ in cases])
    factors = np.stack([f for _, f in cases])
    looped = np.array([float(modularity(c, f)["modularity"]) for c, f in cases])
    np.testing.assert_array_equal(jax.vmap(modularity)(codes, factors)["modularity"], looped)
    np.testing.assert_array_equal(
        jax.jit(jax.vmap(modularity))(codes, factors)["modularity"], looped
    )
    jitted = jax.jit(modularity, static_argnames="num_bins")
    value = jitted(codes[0], factors[0], num_bins=20)["modularity"]
    np.testing.assert_array_equal(value, looped[0])
    matrices = np.random.default_rng(1).exponential(size=(4, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(
        jax.vmap(modularity_from_mutual_info)(matrices),
        [float(modularity_from_mutual_info(m)) for m in matrices],
    )


# --- bad input ---


@pytest.mark.parametrize(
    ("codes_shape", "factors_shape"),
    [((100, 0), (100, 3)), ((100, 4), (99, 3)), ((100,), (100, 3)), ((100, 4), (100, 3, 1))],
)
def test_bad_shapes_raise_one_line_user_error(codes_shape, factors_shape):
    with pytest.raises(UserError) as info:
        modularity(jnp.zeros(codes_shape), jnp.zeros(factors_shape, jnp.int32))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("shape", [(3,), (0, 2), (2, 3, 1)])
def test_bad_matrix_raises_one_line_user_error(shape):
    with pytest.raises(UserError) as info:
        modularity_from_mutual_info(jnp.zeros(shape))
    assert "\n" not in str(info.value)


def test_non_static_num_bins_raises_user_error():
    with pytest.raises(UserError):
        jax.jit(modularity)(jnp.zeros((10, 2)), jnp.zeros((10, 1), jnp.int32), num_bins=20)
