"""IRS against a numpy port of disentanglement_lib, its golden fixtures and invariants."""

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from metric_cases import identity_case, ref_discretize, structured_case

from disentax.errors import UserError
from disentax.metrics import irs

irs_module = importlib.import_module(
    "disentax.metrics.irs"
)  # the package exports `irs`, the function

# --- reference: disentanglement_lib utils.py / irs.py, on [N, columns] arrays, in float64 ---


def ref_scalable_disentanglement_score(gen_factors, latents, diff_quantile=0.99):
    num_gen = gen_factors.shape[1]
    num_lat = latents.shape[1]
    max_deviations = np.max(np.abs(latents - latents.mean(axis=0)), axis=0)
    cum_deviations = np.zeros([num_lat, num_gen])
    for i in range(num_gen):
        unique_factors = np.unique(gen_factors[:, i], axis=0)
        for value in unique_factors:
            match = gen_factors[:, i] == value
            e_loc = np.mean(latents[match, :], axis=0)
            diffs = np.abs(latents[match, :] - e_loc)
            cum_deviations[:, i] += np.quantile(diffs, q=diff_quantile, axis=0)
        cum_deviations[:, i] /= unique_factors.shape[0]
    irs_matrix = 1.0 - cum_deviations / max_deviations[:, np.newaxis]
    scores = irs_matrix.max(axis=1)
    if np.sum(max_deviations) > 0.0:
        return np.average(scores, weights=max_deviations)
    return np.mean(scores)


def ref_irs(codes, factors, diff_quantile=0.99, num_bins=20):
    mus = np.asarray(codes, np.float64).T
    ys_discrete = ref_discretize(factors, num_bins)
    active_mus = mus[mus.var(axis=1) > 0.0, :]
    if not active_mus.any():
        return 0.0, 0
    score = ref_scalable_disentanglement_score(ys_discrete, active_mus.T, diff_quantile)
    return score, active_mus.shape[0]


# --- fixtures ---


# --- parity with the reference ---


@pytest.mark.parametrize(("seed", "diff_quantile"), [(0, 0.99), (1, 0.99), (2, 0.5), (3, 1.0)])
def test_matches_disentanglement_lib_reference(seed, diff_quantile):
    codes, factors = structured_case(seed)
    result = irs(codes, factors, diff_quantile=diff_quantile)
    expected, active = ref_irs(codes, factors, diff_quantile)
    np.testing.assert_allclose(result["irs"], expected, rtol=0, atol=1e-4)
    assert int(result["num_active_dims"]) == active == 6


def test_continuous_factors_are_binned_and_small_groups_handled():
    rng = np.random.default_rng(10)
    factors = np.stack([rng.integers(0, 1000, 300), rng.integers(0, 3, 300)], axis=1)
    codes = np.stack(
        [factors[:, 0] / 100.0 + rng.normal(size=300), factors[:, 1] + 0.1 * rng.normal(size=300)],
        axis=1,
    ).astype(np.float32)
    for q in (0.99, 0.9, 0.0):
        np.testing.assert_allclose(
            irs(codes, factors, diff_quantile=q)["irs"], ref_irs(codes, factors, q)[0], atol=1e-4
        )


def test_constant_codes_are_dropped():
    codes, factors = structured_case(4)
    with_constant = np.concatenate([codes[:, :2], np.zeros((len(codes), 2)), codes[:, 2:]], 1)
    result = irs(with_constant.astype(np.float32), factors)
    expected, active = ref_irs(codes, factors)
    np.testing.assert_allclose(result["irs"], expected, rtol=0, atol=1e-4)
    assert int(result["num_active_dims"]) == active == 6


def test_ties_and_values_at_the_bin_mean():
    """Codes on a coarse grid: many equal values, some equal to their bin's mean, negatives and
    zeros; the quantiles' order statistics then come from both sides of the mean."""
    rng = np.random.default_rng(14)
    factors = rng.integers(0, 4, (600, 2))
    codes = np.stack(
        [factors[:, 0] - 1.5 + rng.integers(-2, 3, 600), np.round(rng.normal(size=600), 1)], 1
    ).astype(np.float32)
    codes[factors[:, 1] == 2, 1] = 0.0  # a bin where every deviation is zero
    expected = ref_irs(codes, factors, 0.7)[0]
    np.testing.assert_allclose(
        irs(codes, factors, diff_quantile=0.7)["irs"], expected, rtol=0, atol=1e-6
    )


@pytest.mark.parametrize("x64", [False, True])
def test_order_statistics_equal_sorting(x64):
    """The radix selection against numpy's sort, per cell and code: ties, zeros, values from
    1e-30 to 1e30 (every digit of the bit patterns varies), empty cells, ranks 0 and last."""
    rng = np.random.default_rng(15)
    n, cells = 400, 7
    values = np.abs(rng.normal(size=(n, 2, 3))) * 10.0 ** rng.integers(-30, 31, (n, 2, 3))
    values[:, :, 1] = rng.integers(0, 4, (n, 2))  # few values: long ties
    values[rng.random((n, 2, 3)) < 0.05] = 0.0
    cell = rng.integers(0, cells - 1, (n, 2))  # the last cell stays empty
    count = np.bincount(cell.ravel(), minlength=cells)
    rank = np.array([rng.integers(0, c) if c else 0 for c in count])
    rank[np.argmax(count)] = count.max() - 1  # the last rank: the upper is clipped to it
    rank[np.argmin(np.where(count > 0, count, n))] = 0
    dtype = np.float64 if x64 else np.float32
    with jax.enable_x64(x64):
        lower, upper = jax.jit(irs_module._order_statistics)(
            jnp.asarray(values.astype(dtype)), jnp.asarray(cell), jnp.asarray(rank)
        )
        lower, upper = np.asarray(lower), np.asarray(upper)
    assert lower.dtype == upper.dtype == dtype
    for c in np.flatnonzero(count):
        for code in range(3):
            ordered = np.sort(values.astype(dtype)[:, :, code][cell == c])
            assert lower[c, code] == ordered[rank[c]]
            assert upper[c, code] == ordered[min(rank[c] + 1, count[c] - 1)]


# --- disentanglement_lib irs_test golden fixtures ---


def test_golden_identity_representation():
    codes, factors = identity_case()
    assert 0.9 <= float(irs(codes, factors)["irs"]) <= 1.0


def test_golden_zeros_representation():
    _, factors = identity_case()
    result = irs(np.zeros((3000, 10), np.float32), factors)
    assert 0.0 <= float(result["irs"]) <= 0.1
    assert int(result["num_active_dims"]) == 0


# --- invariants ---


def test_invariant_to_code_permutation_scale_and_sample_order():
    codes, factors = structured_case(5)
    base = float(irs(codes, factors)["irs"])
    np.testing.assert_allclose(irs(codes[:, ::-1], factors)["irs"], base, rtol=0, atol=1e-6)
    np.testing.assert_allclose(irs(codes, factors[:, ::-1])["irs"], base, rtol=0, atol=1e-6)
    np.testing.assert_allclose(irs(4.0 * codes - 1.0, factors)["irs"], base, rtol=0, atol=1e-5)
    perm = np.random.default_rng(0).permutation(len(codes))
    np.testing.assert_allclose(irs(codes[perm], factors[perm])["irs"], base, rtol=0, atol=1e-6)


def test_jit_and_vmap_over_population():
    cases = [structured_case(seed) for seed in (7, 8, 9)]
    codes = np.stack([c for c, _ in cases])
    codes[1, :, 3] = 2.5  # one model with a constant code
    factors = np.stack([f for _, f in cases])
    looped = [irs(c, f) for c, f in zip(codes, factors, strict=True)]
    for key in ("irs", "num_active_dims"):
        expected = np.array([np.asarray(r[key]) for r in looped])
        np.testing.assert_array_equal(jax.vmap(irs)(codes, factors)[key], expected)
        np.testing.assert_array_equal(jax.jit(jax.vmap(irs))(codes, factors)[key], expected)
    jitted = jax.jit(irs, static_argnames=("diff_quantile", "num_bins"))
    value = jitted(codes[0], factors[0], diff_quantile=0.99, num_bins=20)["irs"]
    np.testing.assert_array_equal(value, looped[0]["irs"])


# --- bad input ---


@pytest.mark.parametrize(
    ("codes_shape", "factors_shape"),
    [((100, 0), (100, 3)), ((100, 4), (99, 3)), ((100,), (100, 3)), ((100, 4), (100, 3, 1))],
)
def test_bad_shapes_raise_one_line_user_error(codes_shape, factors_shape):
    with pytest.raises(UserError) as info:
        irs(jnp.zeros(codes_shape), jnp.zeros(factors_shape, jnp.int32))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("diff_quantile", [-0.1, 1.5, "0.9"])
def test_bad_diff_quantile_raises_user_error(diff_quantile):
    with pytest.raises(UserError):
        irs(jnp.zeros((10, 2)), jnp.zeros((10, 1), jnp.int32), diff_quantile=diff_quantile)


def test_non_static_arguments_raise_user_error():
    with pytest.raises(UserError):
        jax.jit(irs)(jnp.zeros((10, 2)), jnp.zeros((10, 1), jnp.int32), num_bins=20)
    with pytest.raises(UserError):
        jax.jit(irs)(jnp.zeros((10, 2)), jnp.zeros((10, 1), jnp.int32), diff_quantile=0.9)
