"""Fairness against a numpy transcription of disentanglement_lib's fairness.py."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_factor_vae_score import DATASET, perfect

from disentax.errors import UserError
from disentax.metrics import fairness
from disentax.metrics.fairness import fairness_scores, inter_group_fairness

# --- reference: disentanglement_lib evaluation/metrics/fairness.py, transcribed ---


def ref_inter_group_fairness(counts):
    overall_distribution = np.sum(counts, axis=1, dtype=np.float32)
    overall_distribution /= overall_distribution.sum()
    normalized_counts = np.array(counts, dtype=np.float32)
    counts_per_class = np.sum(counts, axis=0)
    normalized_counts /= np.expand_dims(counts_per_class, 0)
    differences = normalized_counts - np.expand_dims(overall_distribution, 1)
    total_variation_distances = np.sum(np.abs(differences), 0) / 2.0
    mean = total_variation_distances * counts_per_class
    mean /= counts_per_class.sum()
    return np.sum(mean), np.amax(total_variation_distances)


def ref_scores_dict(metric, prefix):
    result = {}
    k = metric.shape[0]
    for i in range(k):
        for j in range(k):
            if i != j:
                result[f"{prefix}:pred{i}:sens{j}"] = metric[i, j]
    rows_means, rows_maxs, column_means, column_maxs = [], [], [], []
    for i in range(k):
        relevant = [metric[i, j] for j in range(k) if i != j]
        result[f"{prefix}:pred{i}:mean_sens"] = np.mean(relevant)
        result[f"{prefix}:pred{i}:max_sens"] = np.amax(relevant)
        rows_means.append(np.mean(relevant))
        rows_maxs.append(np.amax(relevant))
    for j in range(k):
        relevant = [metric[i, j] for i in range(k) if i != j]
        result[f"{prefix}:sens{j}:mean_pred"] = np.mean(relevant)
        result[f"{prefix}:sens{j}:max_pred"] = np.amax(relevant)
        column_means.append(np.mean(relevant))
        column_maxs.append(np.amax(relevant))
    result[f"{prefix}:mean_sens:mean_pred"] = np.mean(column_means)
    result[f"{prefix}:mean_sens:max_pred"] = np.mean(column_maxs)
    result[f"{prefix}:max_sens:mean_pred"] = np.amax(column_means)
    result[f"{prefix}:max_sens:max_pred"] = np.amax(column_maxs)
    result[f"{prefix}:mean_pred:mean_sens"] = np.mean(rows_means)
    result[f"{prefix}:mean_pred:max_sens"] = np.mean(rows_maxs)
    result[f"{prefix}:max_pred:mean_sens"] = np.amax(rows_means)
    result[f"{prefix}:max_pred:max_sens"] = np.amax(rows_maxs)
    return result


# --- pieces ---


def test_inter_group_fairness_matches_transcription_and_closed_forms():
    rng = np.random.default_rng(0)
    for shape in [(2, 2), (3, 5), (6, 4)]:
        counts = rng.integers(0, 30, size=shape)
        counts[0] += 1  # every sensitive class observed
        got = inter_group_fairness(counts)
        np.testing.assert_allclose(got, ref_inter_group_fairness(counts), rtol=1e-6)
    np.testing.assert_allclose(inter_group_fairness(np.full((3, 4), 7)), (0.0, 0.0), atol=1e-7)
    # predictions equal to the sensitive class: each class is at TV 1 − 1/C from the mixture
    np.testing.assert_allclose(inter_group_fairness(10 * np.eye(4)), (0.75, 0.75), rtol=1e-6)


def test_scores_dict_matches_transcription():
    matrix = np.random.default_rng(1).uniform(size=(4, 4))
    np.fill_diagonal(matrix, 0.0)
    got, expected = (
        fairness_scores(matrix, "mean_fairness"),
        ref_scores_dict(matrix, "mean_fairness"),
    )
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-12)


# --- the metric on a dataset whose images hold the factors ---


def entangled(images):
    """One code is the sum a + b of two factors (sizes 4 and 5), so a classifier for a reads b."""
    x = images[:, 0, :, 0]
    return jnp.stack([3.0 * x[:, 0] + 4.0 * x[:, 1], x[:, 2]], 1)


OPTIONS = dict(num_train=600, num_test_points_per_class=40)


def test_fair_and_unfair_representations_reference_mode():
    fair = fairness(DATASET, perfect, jax.random.key(0), mode="reference", **OPTIONS)
    unfair = fairness(DATASET, entangled, jax.random.key(0), mode="reference", **OPTIONS)
    assert fair["mean_fairness:mean_pred:mean_sens"] < 0.02  # exact codes predict exactly
    # the prediction of a from a + b shifts with b, and that of b with a
    assert unfair["mean_fairness"][0, 1] > 0.1 and unfair["mean_fairness"][1, 0] > 0.1
    assert unfair["mean_fairness"][2, 0] < 0.05  # c has its own code
    np.testing.assert_array_equal(np.diag(unfair["max_fairness"]), 0.0)
    expected = ref_scores_dict(unfair["max_fairness"], "max_fairness")
    for key, value in expected.items():
        assert unfair[key] == value


def test_jax_mode_agrees_with_reference_mode():
    jax_mode = fairness(DATASET, entangled, jax.random.key(0), **OPTIONS)
    reference = fairness(DATASET, entangled, jax.random.key(0), mode="reference", **OPTIONS)
    # same samples, different tree learners (histogram splits vs exact ones)
    np.testing.assert_allclose(jax_mode["mean_fairness"], reference["mean_fairness"], atol=0.08)


def test_user_errors():
    with pytest.raises(UserError, match="mode"):
        fairness(DATASET, perfect, jax.random.key(0), mode="gbt")
    with pytest.raises(UserError, match="num_train"):
        fairness(DATASET, perfect, jax.random.key(0), num_train=0)
