"""Weakly-supervised pair sampling: shared factors, k in range, images of the factors, jit."""

import functools

import jax
import numpy as np
import pytest

from disentax import data
from disentax.data import FactorGrid
from disentax.errors import UserError

DSPRITES = data.get("dsprites_procedural")  # sizes (3, 6, 40, 32, 32), no nuisances
K = len(DSPRITES.factor_sizes)
sample_pair_factors = jax.jit(data.sample_pair_factors, static_argnums=(0, 2, 3, 4))
render = jax.jit(DSPRITES.observations_from_factors)


@functools.cache
def pair_factors(k: int, dynamics: str, n: int = 4000, seed: int = 0):
    f1, f2 = sample_pair_factors(DSPRITES, jax.random.PRNGKey(seed), n, k, dynamics)
    return np.asarray(f1), np.asarray(f2)


@pytest.mark.parametrize("k", range(1, K))
def test_exact_pairs_share_exactly_k_minus_k_factors(k):
    f1, f2 = pair_factors(k, "exact")
    assert f1.shape == f2.shape == (4000, K) and f1.dtype == f2.dtype == np.int32
    np.testing.assert_array_equal((f1 != f2).sum(axis=1), k)
    sizes = np.array(DSPRITES.factor_sizes)
    assert (f2 >= 0).all() and (f2 < sizes).all()
    # Which factors change is uniform: each factor changes in a fraction k/K of the pairs.
    np.testing.assert_allclose((f1 != f2).mean(axis=0), k / K, atol=0.04)
    # f1 is uniform i.i.d.: every value of every factor occurs.
    for j, size in enumerate(sizes):
        assert len(np.unique(f1[:, j])) == size


def test_random_k_is_uniform_on_1_to_k_minus_1():
    f1, f2 = pair_factors(-1, "exact")
    changed = (f1 != f2).sum(axis=1)
    counts = np.bincount(changed, minlength=K + 1)
    assert counts[0] == 0 and counts[K] == 0
    # 4000 pairs over K - 1 = 4 values: 1000 each, binomial sd ~ 27.
    np.testing.assert_allclose(counts[1:K], 4000 / (K - 1), atol=130)


def test_dlib_dynamics_matches_simple_dynamics_expectation():
    """disentanglement_lib resamples m ∈ {1, k} factors (½ each), each uniformly over all its
    values: E[#changed] = E[m] / K · Σ_j (1 − 1/size_j), and never more than k change."""
    k = 3
    f1, f2 = pair_factors(k, "dlib")
    changed = (f1 != f2).sum(axis=1)
    assert changed.max() <= k
    expected = (1 + k) / 2 / K * sum(1 - 1 / s for s in DSPRITES.factor_sizes)
    assert abs(changed.mean() - expected) < 0.06  # sd of the mean ~ 0.02
    # m = 1 half of the time: at most one factor differs in at least ~half of the pairs.
    assert (changed <= 1).mean() > 0.45


def test_images_are_the_observations_of_the_factors_and_batches_are_pure():
    key = jax.random.PRNGKey(3)
    batches = data.procedural_pair_batches(DSPRITES, 8, key, 2)
    batch = batches(5)
    assert set(batch) == {"image", "image_pair", "factors", "factors_pair"}
    assert batch["image"].shape == batch["image_pair"].shape == (8, 64, 64, 1)
    for image, factors in (("image", "factors"), ("image_pair", "factors_pair")):
        np.testing.assert_array_equal(batch[image], render(batch[factors]))
    np.testing.assert_array_equal((batch["factors"] != batch["factors_pair"]).sum(1), 2)
    again = batches(5)
    for name in batch:
        np.testing.assert_array_equal(batch[name], again[name])
    assert not np.array_equal(batch["factors"], batches(6)["factors"])


class HostGrid(FactorGrid):
    """A stand-in for a stored dataset: numpy images [pixel j = factor j / size j, nuisance]."""

    name = "host_grid"
    factor_names = ("a", "b", "c")
    factor_sizes = (2, 3, 4)
    observation_shape = (2, 2, 1)

    def observations_from_factors(self, factors_NxK, rng):
        factors = np.asarray(factors_NxK)
        nuisance = rng.uniform(size=(len(factors), 1))
        pixels = np.concatenate([factors / np.array(self.factor_sizes), nuisance], axis=1)
        return pixels.reshape(len(factors), 2, 2, 1).astype(np.float32)


def test_host_pairs_follow_the_documented_factor_stream():
    """The host (stored-dataset) pipeline: factors of step s are sample_pair_factors(fold_in(
    key, s)); images are observations_from_factors of them, with independent nuisances."""
    dataset, key = HostGrid(), jax.random.PRNGKey(4)
    batch = data.stored_pair_batches(dataset, 64, key, -1, "dlib")(2)
    f1, f2 = sample_pair_factors(dataset, jax.random.fold_in(key, 2), 64, -1, "dlib")
    np.testing.assert_array_equal(batch["factors"], f1)
    np.testing.assert_array_equal(batch["factors_pair"], f2)
    sizes = np.array(dataset.factor_sizes)
    for image, factors in ((batch["image"], f1), (batch["image_pair"], f2)):
        assert image.shape == (64, 2, 2, 1) and image.dtype == np.float32
        pixels = np.asarray(image).reshape(64, 4)
        np.testing.assert_allclose(pixels[:, :3], np.asarray(factors) / sizes, rtol=1e-6)
    nuisance = np.asarray(batch["image"]).reshape(64, 4)[:, 3]
    nuisance_pair = np.asarray(batch["image_pair"]).reshape(64, 4)[:, 3]
    assert not np.allclose(nuisance, nuisance_pair)


@pytest.mark.parametrize(
    "k, dynamics, match",
    [
        (0, "exact", "1..4"),
        (K, "exact", "1..4"),
        (-2, "dlib", "1..4"),
        (1.5, "exact", "int"),
        (1, "markov", "dynamics"),
    ],
)
def test_bad_options_are_one_line_user_errors(k, dynamics, match):
    with pytest.raises(UserError, match=match) as info:
        data.procedural_pair_batches(DSPRITES, 4, jax.random.PRNGKey(0), k, dynamics)
    assert "\n" not in str(info.value)
