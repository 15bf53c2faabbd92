"""MIG against a numpy + sklearn port of disentanglement_lib, its golden fixtures and invariants."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from metric_cases import (
    identity_case,
    ref_discretize,
    ref_entropy,
    ref_mutual_info,
    structured_case,
)

from disentax.errors import UserError
from disentax.metrics import discrete_entropy, discrete_mutual_info, histogram_discretize, mig

# --- reference: disentanglement_lib utils.py / mig.py, on [N, columns] arrays, in float64 ---


def ref_mig(codes, factors, num_bins=20):
    m = ref_mutual_info(ref_discretize(codes, num_bins), factors)
    sorted_m = np.sort(m, axis=0)[::-1]
    return np.mean(np.divide(sorted_m[0, :] - sorted_m[1, :], ref_entropy(factors)))


# --- fixtures ---


# --- parity with the reference ---


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_disentanglement_lib_reference(seed):
    codes, factors = structured_case(seed)
    binned = np.asarray(histogram_discretize(codes))
    expected_bins = ref_discretize(codes)
    assert binned.dtype == np.int32
    assert binned.min() >= 1 and binned.max() <= 20
    assert np.mean(binned != expected_bins) <= 1e-3
    np.testing.assert_allclose(
        discrete_mutual_info(expected_bins, factors),
        ref_mutual_info(expected_bins, factors),
        rtol=0,
        atol=1e-5,
    )
    np.testing.assert_allclose(discrete_entropy(factors), ref_entropy(factors), rtol=0, atol=1e-5)
    np.testing.assert_allclose(mig(codes, factors)["mig"], ref_mig(codes, factors), atol=1e-4)


# --- disentanglement_lib mig_test golden fixtures ---


def test_golden_identity_representation():
    codes, factors = identity_case()
    binned = np.asarray(histogram_discretize(codes))
    for k in range(10):  # 20 bins keep the 10 values apart: discretisation acts as the identity
        pairs = np.unique(np.stack([binned[:, k], factors[:, k]], axis=1), axis=0)
        assert len(pairs) == len(np.unique(factors[:, k])) == len(np.unique(binned[:, k]))
    np.testing.assert_allclose(
        discrete_mutual_info(factors, factors), discrete_mutual_info(binned, factors), atol=1e-6
    )
    assert 0.9 <= float(mig(codes, factors)["mig"]) <= 1.0


def test_golden_zeros_representation():
    _, factors = identity_case()
    assert 0.0 <= float(mig(np.zeros((3000, 10), np.float32), factors)["mig"]) <= 0.2


def test_golden_duplicated_representation():
    codes, factors = identity_case()
    assert 0.0 <= float(mig(np.hstack([codes, codes]), factors)["mig"]) <= 0.1


# --- invariants ---


def test_invariant_to_code_permutation_affine_map_and_sample_order():
    codes, factors = structured_case(4)
    base = float(mig(codes, factors)["mig"])
    assert float(mig(codes[:, ::-1], factors)["mig"]) == base
    affine = codes.copy()  # equal-width bins are invariant to increasing affine maps of a code
    affine[:, 0] = 2.0 * affine[:, 0] + 0.5
    affine[:, 2] = 0.1 * affine[:, 2] - 3.0
    np.testing.assert_array_equal(histogram_discretize(affine), histogram_discretize(codes))
    np.testing.assert_allclose(mig(affine, factors)["mig"], base, rtol=0, atol=1e-6)
    perm = np.random.default_rng(0).permutation(len(codes))
    np.testing.assert_allclose(mig(codes[perm], factors[perm])["mig"], base, rtol=0, atol=1e-6)


def test_constant_codes_give_zero():
    _, factors = structured_case(5)
    value = mig(np.full((len(factors), 6), 7.0, np.float32), factors)["mig"]
    assert np.isfinite(value) and float(value) == 0.0


def test_constant_factors_are_left_out():
    codes, factors = structured_case(6)
    with_constant = factors.copy()
    with_constant[:, 2] = 4  # disentanglement_lib would divide by H = 0 here
    np.testing.assert_allclose(
        mig(codes, with_constant)["mig"], ref_mig(codes, factors[:, :2]), rtol=0, atol=1e-4
    )
    assert float(mig(codes, np.zeros_like(factors))["mig"]) == 0.0


def test_jit_and_vmap_over_population():
    cases = [structured_case(seed) for seed in (7, 8, 9)]
    codes = np.stack([c for c, _ in cases])
    factors = np.stack([f for _, f in cases])
    looped = np.array([float(mig(c, f)["mig"]) for c, f in cases])
    np.testing.assert_array_equal(np.asarray(jax.vmap(mig)(codes, factors)["mig"]), looped)
    np.testing.assert_array_equal(np.asarray(jax.jit(jax.vmap(mig))(codes, factors)["mig"]), looped)
    jitted = jax.jit(mig, static_argnames="num_bins")
    np.testing.assert_array_equal(jitted(codes[0], factors[0], num_bins=20)["mig"], looped[0])


def test_vmap_agrees_with_the_loop_across_count_paths():
    """Concrete factors of small span are counted per contingency-table cell, traced ones (under
    vmap, ranked into a space of N labels) per sample: the values agree bit for bit."""
    rng = np.random.default_rng(16)
    factors = rng.integers(0, 4, (3, 2000, 3)).astype(np.int32)
    codes = (factors[..., [0, 1, 2, 0]] + rng.normal(size=(3, 2000, 4))).astype(np.float32)
    looped = np.array([float(mig(c, f)["mig"]) for c, f in zip(codes, factors, strict=True)])
    np.testing.assert_array_equal(np.asarray(jax.vmap(mig)(codes, factors)["mig"]), looped)


# --- bad input ---


@pytest.mark.parametrize(
    ("codes_shape", "factors_shape"),
    [((100, 1), (100, 3)), ((100, 4), (99, 3)), ((100,), (100, 3)), ((100, 4), (100, 3, 1))],
)
def test_bad_shapes_raise_one_line_user_error(codes_shape, factors_shape):
    with pytest.raises(UserError) as info:
        mig(jnp.zeros(codes_shape), jnp.zeros(factors_shape, jnp.int32))
    assert "\n" not in str(info.value)


def test_non_static_num_bins_raises_user_error():
    with pytest.raises(UserError):
        jax.jit(mig)(jnp.zeros((10, 2)), jnp.zeros((10, 1), jnp.int32), num_bins=20)
