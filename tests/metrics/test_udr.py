"""UDR against a numpy + sklearn transcription of disentanglement_lib's udr.py and its fixtures."""

import warnings

import jax
import numpy as np
import pytest
from scipy import stats
from sklearn import linear_model, preprocessing

from disentax.errors import UserError
from disentax.metrics import udr
from disentax.metrics.udr import relative_strength

N, L = 500, 5

# --- reference: disentanglement_lib evaluation/udr/metrics/udr.py, transcribed ---


@np.errstate(divide="ignore", invalid="ignore")  # all-zero columns: 0 / 0, then nan_to_num
def ref_relative_strength(corr_matrix):
    score_x = np.nanmean(
        np.nan_to_num(np.power(np.max(corr_matrix, axis=0), 2) / np.sum(corr_matrix, axis=0), 0)
    )
    score_y = np.nanmean(
        np.nan_to_num(np.power(np.max(corr_matrix, axis=1), 2) / np.sum(corr_matrix, axis=1), 0)
    )
    return (score_x + score_y) / 2


def ref_udr(reps, kl, correlation="lasso", threshold=0.01):
    reps = [preprocessing.StandardScaler().fit_transform(r.astype(np.float64)) for r in reps]
    reps = [r * np.greater(k, 0.01) for r, k in zip(reps, kl, strict=True)]
    masks = [k > threshold for k in kl]
    m = len(reps)
    disentanglement = np.zeros((m, m, 1))
    for i in range(m):
        for j in range(m):
            if i == j:
                continue
            if correlation == "lasso":
                model = linear_model.Lasso(alpha=0.1).fit(reps[i], reps[j])
                corr = np.transpose(np.absolute(model.coef_))
            else:  # a zeroed (inactive) latent is constant: its correlation is nan, as there
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", stats.ConstantInputWarning)
                    corr = np.array(
                        [[abs(stats.spearmanr(a, b)[0]) for b in reps[j].T] for a in reps[i].T]
                    )
            disentanglement[i, j] = ref_relative_strength(corr[masks[i], ...][..., masks[j]])
    return np.array([np.median(np.delete(disentanglement[:, i], i)) for i in range(m)])


def population(seed, m=4, noise=0.3):
    """m models: signed permutations of shared sources plus noise, and one unrelated model."""
    rng = np.random.default_rng(seed)
    sources = rng.normal(size=(N, L))
    reps = []
    for _ in range(m):
        signed = np.eye(L)[rng.permutation(L)] * rng.choice([-1.0, 1.0], L)
        reps.append(sources @ signed + noise * rng.normal(size=(N, L)))
    reps.append(rng.normal(size=(N, L)) @ rng.normal(size=(L, L)))
    kl = np.ones((m + 1, L))
    kl[0, 2] = 0.005  # below the filter: zeroed and dropped
    kl[1, 4] = 0.02  # kept by the filter
    return np.stack(reps).astype(np.float32), kl.astype(np.float32)


# --- tests ---


def test_relative_strength_fixtures():
    ones = np.ones(3, bool)
    cases = {
        ((1, 0, 0), (0, 1, 0), (0, 0, 1)): 1.0,
        ((1, 1, 0), (1, 1, 0), (0, 0, 1)): ref_relative_strength(
            np.array([[1.0, 1, 0], [1, 1, 0], [0, 0, 1]])
        ),
        ((1, 1, 1), (1, 1, 1), (1, 1, 1)): 1 / 3,
        ((0, 0, 0), (0, 0, 0), (0, 0, 0)): 0.0,
    }
    for matrix, expected in cases.items():
        got = relative_strength(np.array(matrix, np.float32), ones, ones)
        np.testing.assert_allclose(got, expected, atol=1e-7)
    assert 0.6 < cases[((1, 1, 0), (1, 1, 0), (0, 0, 1))] < 0.7  # disentanglement_lib's bounds


@pytest.mark.parametrize("correlation", ["lasso", "spearman"])
def test_matches_transcription(correlation):
    reps, kl = population(0)
    expected = ref_udr(reps, kl, correlation)
    got = udr(reps, kl, correlation=correlation)
    np.testing.assert_allclose(got["model_scores"], expected, rtol=0, atol=1e-5)
    reference = udr(reps, kl, correlation=correlation, mode="reference")
    np.testing.assert_allclose(reference["model_scores"], expected, rtol=0, atol=1e-12)
    # sklearn stops coordinate descent at its dual-gap tolerance (1e-4): a coefficient near the
    # soft threshold can still differ by ~1e-4 from the fixed-sweep solution
    for key, atol in (("pairwise_disentanglement_scores", 1e-5), ("raw_correlations", 1e-3)):
        finite = np.isfinite(reference[key])  # Spearman of a zeroed latent is NaN there
        np.testing.assert_allclose(got[key][finite], reference[key][finite], atol=atol)


def test_identical_models_score_high_and_unrelated_low():
    reps, kl = population(1, noise=0.0)
    scores = np.asarray(udr(reps, np.ones_like(kl))["model_scores"])
    # Signed permutations of one another: the lasso shrinks each weight by α = 0.1, to 1 − α.
    np.testing.assert_allclose(scores[:4], 0.9, atol=1e-5)
    assert scores[4] < 0.5
    rng = np.random.default_rng(2)
    unrelated = rng.normal(size=(3, N, L)).astype(np.float32)
    assert np.all(np.asarray(udr(unrelated)["model_scores"]) < 0.3)


def test_kl_filter_fixture():
    """disentanglement_lib's test_metric_kl: one informative latent and noise latents."""
    rng = np.random.default_rng(3)
    signal = rng.uniform(size=(N, 1))
    reps = np.stack([np.concatenate([signal, rng.uniform(size=(N, L - 1))], 1) for _ in range(2)])
    kl = np.zeros((2, L))
    kl[:, 0] = 1.0
    unfiltered = udr(reps.astype(np.float32), kl, filter_low_kl=False)["model_scores"]
    filtered = udr(reps.astype(np.float32), kl)["model_scores"]
    assert np.all(np.asarray(unfiltered) < 0.2) and np.all(np.asarray(filtered) > 0.8)


def test_jit_and_vmap_over_populations():
    reps = np.stack([population(s)[0] for s in range(3)])
    kl = np.stack([population(s)[1] for s in range(3)])
    looped = np.stack([udr(r, k)["model_scores"] for r, k in zip(reps, kl, strict=True)])
    batched = jax.jit(jax.vmap(udr))(reps, kl)["model_scores"]
    np.testing.assert_allclose(batched, looped, atol=1e-6)


def test_user_errors():
    reps, kl = population(0)
    with pytest.raises(UserError, match="at least 2 models"):
        udr(reps[:1])
    with pytest.raises(UserError, match="kl must be"):
        udr(reps, kl[:, :2])
    with pytest.raises(UserError, match="correlation"):
        udr(reps, correlation="pearson")
