"""Gaussian TC and pairwise MI of full and truncated codes: closed forms and the paper's code."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from disentax.analysis import mean_vs_sampled, mutual_information, total_correlation, truncate
from disentax.errors import UserError
from disentax.metrics import unsupervised


def closed_form_tc(cov):
    """TC of N(0, Σ) = −½ log det R, R the correlation matrix of Σ."""
    d = np.sqrt(np.diag(cov))
    return -0.5 * np.linalg.slogdet(cov / np.outer(d, d))[1]


def correlated_cov():
    a = np.array([[1.0, 0.8, 0.3, 0.0], [0.0, 0.6, -0.5, 0.2], [0.0, 0.0, 0.8, 0.4]])
    return a.T @ a + np.diag([0.05, 0.2, 0.1, 0.5])


def ref_mutual_info_score(codes, keep, num_bins=20):
    """bonheml/tc_study `compute_unsupervised_metrics` (mutual_info_score) on the kept columns,
    with disentanglement_lib's histogram discretiser, in float64 numpy + sklearn."""
    kept = np.asarray(codes, np.float64)[:, keep]
    binned = [np.digitize(c, np.histogram(c, num_bins)[1][:-1]) for c in kept.T]
    k = len(binned)
    mi = np.array([[mutual_info_score(a, b) for b in binned] for a in binned])
    np.fill_diagonal(mi, 0)
    return np.sum(mi) / (k**2 - k)


def test_tc_of_independent_gaussians_is_zero():
    x = np.random.default_rng(0).normal(size=(20_000, 5)) * np.array([0.1, 1, 3, 10, 0.01])
    # the sample TC of independent data has mean ≈ L(L−1)/(4N) = 2.5e-4
    assert 0 <= float(total_correlation(x)) < 2e-3


@pytest.mark.parametrize("keep", [None, [True, True, True, True], [True, True, False, True]])
def test_tc_of_correlated_gaussians_is_the_closed_form(keep):
    cov = correlated_cov()
    x = np.random.default_rng(1).multivariate_normal(np.zeros(4), cov, size=50_000)
    mask = np.ones(4, bool) if keep is None else np.array(keep)
    expected = closed_form_tc(cov[np.ix_(mask, mask)])
    assert expected > 0.3
    got = total_correlation(x.astype(np.float32), None if keep is None else mask)
    np.testing.assert_allclose(float(got), expected, rtol=0.02)


def test_truncated_scores_equal_scores_of_the_deleted_columns():
    x = np.random.default_rng(2).multivariate_normal(np.zeros(4), correlated_cov(), size=3000)
    x = x.astype(np.float32)
    keep = np.array([True, False, True, True])
    deleted = unsupervised(x[:, keep])
    np.testing.assert_allclose(
        total_correlation(x, keep), deleted["gaussian_total_correlation"], rtol=1e-5
    )
    np.testing.assert_allclose(mutual_information(x, keep), deleted["mutual_info_score"], rtol=1e-5)
    np.testing.assert_allclose(
        mutual_information(x), unsupervised(x)["mutual_info_score"], rtol=1e-6
    )


@pytest.mark.parametrize("keep", [[True] * 5, [True, False, True, False, True]])
def test_mutual_information_matches_the_papers_code(keep):
    rng = np.random.default_rng(3)
    base = rng.normal(size=(2000, 2))
    codes = np.stack(
        [
            base[:, 0],
            base[:, 0] ** 2 + 0.3 * rng.normal(size=2000),
            base[:, 1],
            np.sin(3 * base[:, 1]),
            rng.normal(size=2000),
        ],
        axis=1,
    ).astype(np.float32)
    keep = np.array(keep)
    np.testing.assert_allclose(
        float(mutual_information(codes, keep)), ref_mutual_info_score(codes, keep), rtol=1e-4
    )


def test_fewer_than_two_kept_dimensions_give_nan():
    x = np.random.default_rng(4).normal(size=(100, 3)).astype(np.float32)
    one = np.array([False, True, False])
    assert np.isnan(float(total_correlation(x, one)))
    assert np.isnan(float(mutual_information(x, one)))


def test_truncate_zeroes_the_dropped_dimensions():
    x = jnp.arange(6.0).reshape(2, 3) + 1
    np.testing.assert_array_equal(
        truncate(x, jnp.array([True, False, True])), [[1, 0, 3], [4, 0, 6]]
    )


def constructed_encoder(n=20_000, seed=5):
    """Three active variables (independent μ, σ² = 0.01) and two passive ones whose μ is a small
    mixture of the active μ plus a little own noise, σ² = 1; returns mu, logvar and the
    population covariance of μ."""
    rng = np.random.default_rng(seed)
    mixing = np.array(
        [[1, 0, 0, 0.04, 0.03], [0, 1, 0, 0.03, -0.02], [0, 0, 1, 0.0, 0.05]], np.float64
    )
    own = np.diag([0, 0, 0, 0.01, 0.01])
    a = np.concatenate([mixing, own[3:]])  # μ = [g, h] @ a with g ~ N(0, I_3), h ~ N(0, I_2)
    mu = rng.normal(size=(n, 5)) @ a
    logvar = np.log(np.tile([0.01, 0.01, 0.01, 1.0, 1.0], (n, 1)))
    return mu.astype(np.float32), logvar.astype(np.float32), a.T @ a


def test_passive_variables_make_the_mean_representation_correlated():
    mu, logvar, cov = constructed_encoder()
    out = mean_vs_sampled(mu, logvar, jax.random.PRNGKey(0))
    assert (int(out["num_passive"]), int(out["num_mixed"]), int(out["num_active"])) == (2, 0, 3)
    sampled_cov = cov + np.diag(np.exp(logvar[0]))
    np.testing.assert_allclose(float(out["tc/mean"]), closed_form_tc(cov), rtol=0.02)
    np.testing.assert_allclose(float(out["tc/sampled"]), closed_form_tc(sampled_cov), atol=2e-3)
    assert float(out["tc_gap"]) > 2.0
    # after truncation both keep the three independent active variables: no gap
    assert abs(float(out["tc/mean_truncated"])) < 2e-3
    assert abs(float(out["tc_gap_truncated"])) < 2e-3
    assert float(out["mi/mean"]) > 3 * float(out["mi/sampled"])
    np.testing.assert_allclose(
        float(out["mi/mean_truncated"]), float(out["mi/sampled_truncated"]), atol=0.01
    )


def test_mean_vs_sampled_vmaps_over_a_population():
    mu, logvar, _ = constructed_encoder(n=2000)
    mus = np.stack([mu, mu[:, ::-1], mu * 2])
    logvars = np.stack([logvar, logvar[:, ::-1], logvar])
    keys = jax.random.split(jax.random.PRNGKey(1), 3)
    batched = jax.jit(jax.vmap(mean_vs_sampled))(mus, logvars, keys)
    for m in range(3):
        single = mean_vs_sampled(mus[m], logvars[m], keys[m])
        for key, value in single.items():
            np.testing.assert_allclose(batched[key][m], value, rtol=1e-4, atol=1e-6, err_msg=key)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: total_correlation(np.zeros((4, 3)), np.ones(2, bool)), r"shape \(3,\)"),
        (lambda: total_correlation(np.zeros((4, 3)), np.ones(3)), "bool mask"),
        (lambda: mutual_information(np.zeros(4)), "2-D"),
        (
            lambda: mean_vs_sampled(np.zeros((4, 3)), np.zeros((4, 2)), jax.random.PRNGKey(0)),
            "same shape",
        ),
    ],
)
def test_bad_input_is_a_one_line_user_error(call, match):
    with pytest.raises(UserError, match=match) as info:
        call()
    assert "\n" not in str(info.value)
