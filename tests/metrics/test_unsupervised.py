"""Unsupervised scores against a numpy + scipy + sklearn port of disentanglement_lib."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from metric_cases import ref_discretize, structured_case
from sklearn.metrics import mutual_info_score

from disentax.errors import UserError
from disentax.metrics import unsupervised

KEYS = (
    "gaussian_total_correlation",
    "gaussian_wasserstein_correlation",
    "gaussian_wasserstein_correlation_norm",
    "mutual_info_score",
)

# --- reference: disentanglement_lib utils.py / unsupervised_metrics.py, in float64 ---


def ref_unsupervised(codes, num_bins=20):
    mus = np.asarray(codes, np.float64).T
    num_codes = mus.shape[0]
    cov = np.cov(mus)
    scores = {
        "gaussian_total_correlation": 0.5
        * (np.sum(np.log(np.diag(cov))) - np.linalg.slogdet(cov)[1]),
    }
    sqrtm = scipy.linalg.sqrtm(cov * np.expand_dims(np.diag(cov), axis=1))
    scores["gaussian_wasserstein_correlation"] = np.real(2 * np.trace(cov) - 2 * np.trace(sqrtm))
    scores["gaussian_wasserstein_correlation_norm"] = scores[
        "gaussian_wasserstein_correlation"
    ] / np.sum(np.diag(cov))
    binned = ref_discretize(codes, num_bins)
    mi = np.array(
        [
            [mutual_info_score(binned[:, i], binned[:, j]) for j in range(num_codes)]
            for i in range(num_codes)
        ]
    )
    np.fill_diagonal(mi, 0)
    scores["mutual_info_score"] = np.sum(mi) / (num_codes**2 - num_codes)
    return scores


def ref_kl_gaussians(mean_0, cov_0, mean_1, cov_1, k):
    inv_1 = np.linalg.inv(cov_1)
    return 0.5 * (
        np.trace(inv_1 @ cov_0)
        + (mean_1 - mean_0) @ inv_1 @ (mean_1 - mean_0)
        - k
        + np.log(np.linalg.det(cov_1) / np.linalg.det(cov_0))
    )


# --- fixtures ---


def correlated_case(seed, n=2000, num_codes=5):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(num_codes, num_codes)) * rng.uniform(0.2, 2.0, size=num_codes)
    return (rng.normal(size=(n, num_codes)) @ mixing + rng.normal(size=num_codes)).astype(
        np.float32
    )


def assert_close_to_reference(codes):
    result = unsupervised(codes)
    expected = ref_unsupervised(codes)
    for key in KEYS:
        np.testing.assert_allclose(result[key], expected[key], rtol=0, atol=1e-4, err_msg=key)


# --- parity with the reference ---


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_matches_disentanglement_lib_reference(seed):
    assert_close_to_reference(correlated_case(seed))
    assert_close_to_reference(structured_case(seed)[0])


def test_total_correlation_is_kl_to_product_of_marginals():
    codes = correlated_case(3).astype(np.float64)
    cov = np.cov(codes.T)
    zero = np.zeros(len(cov))
    expected = ref_kl_gaussians(zero, cov, zero, np.diag(np.diag(cov)), len(cov))
    np.testing.assert_allclose(
        unsupervised(codes)["gaussian_total_correlation"], expected, rtol=0, atol=1e-4
    )


# --- golden values ---


def test_uncorrelated_codes_score_zero():
    """Hadamard columns are centred and orthogonal: Σ is exactly diagonal."""
    codes = (scipy.linalg.hadamard(64)[:, 1:6] * np.array([0.5, 1.0, 2.0, 3.0, 7.0])).astype(
        np.float32
    )
    result = unsupervised(codes)
    np.testing.assert_allclose(result["gaussian_total_correlation"], 0.0, atol=1e-5)
    np.testing.assert_allclose(result["gaussian_wasserstein_correlation"], 0.0, atol=1e-4)
    np.testing.assert_allclose(result["mutual_info_score"], 0.0, atol=1e-6)


def test_duplicated_codes_share_all_information():
    x = np.random.default_rng(0).integers(1, 11, size=(3000, 1)).astype(np.float32)
    result = unsupervised(np.hstack([x, x]))
    np.testing.assert_allclose(
        result["mutual_info_score"], mutual_info_score(x[:, 0], x[:, 0]), atol=1e-5
    )


def test_all_constant_codes():
    result = unsupervised(np.full((100, 3), 0.1, np.float32))
    assert float(result["gaussian_wasserstein_correlation"]) == 0.0
    assert float(result["gaussian_wasserstein_correlation_norm"]) == 0.0
    assert float(result["mutual_info_score"]) == 0.0


# --- invariants ---


def test_invariant_to_code_permutation_and_sample_order():
    codes = correlated_case(4)
    base = unsupervised(codes)
    perm = np.random.default_rng(0).permutation(len(codes))
    for other in (unsupervised(codes[:, ::-1]), unsupervised(codes[perm])):
        for key in KEYS:
            np.testing.assert_allclose(other[key], base[key], rtol=1e-5, atol=1e-5, err_msg=key)


def test_scale_invariances():
    codes = correlated_case(5)
    base = unsupervised(codes)
    rescaled = unsupervised(codes * np.array([0.5, 2.0, 3.0, 1.0, 4.0], np.float32))
    for key in ("gaussian_total_correlation", "mutual_info_score"):
        np.testing.assert_allclose(rescaled[key], base[key], rtol=0, atol=1e-4, err_msg=key)
    uniform = unsupervised(3.0 * codes)
    key = "gaussian_wasserstein_correlation_norm"
    np.testing.assert_allclose(uniform[key], base[key], rtol=0, atol=1e-5)


def test_jit_and_vmap_over_population():
    codes = np.stack([correlated_case(seed) for seed in (7, 8, 9)])
    looped = [unsupervised(c) for c in codes]
    batched = jax.vmap(unsupervised)(codes)
    jitted_batched = jax.jit(jax.vmap(unsupervised))(codes)
    for key in KEYS:
        expected = np.array([float(r[key]) for r in looped])
        np.testing.assert_array_equal(batched[key], expected, err_msg=key)
        np.testing.assert_array_equal(jitted_batched[key], expected, err_msg=key)
    jitted = jax.jit(unsupervised, static_argnames="num_bins")(codes[0], num_bins=20)
    for key in KEYS:
        np.testing.assert_array_equal(jitted[key], looped[0][key])


# --- bad input ---


@pytest.mark.parametrize("shape", [(100, 1), (1, 4), (100,), (100, 4, 1)])
def test_bad_shapes_raise_one_line_user_error(shape):
    with pytest.raises(UserError) as info:
        unsupervised(jnp.zeros(shape))
    assert "\n" not in str(info.value)


def test_non_static_num_bins_raises_user_error():
    with pytest.raises(UserError):
        jax.jit(unsupervised)(jnp.zeros((10, 2)), num_bins=20)
