"""Every registered procedural dataset honours the ground-truth contract."""

import jax
import numpy as np
import pytest

from disentax import data

PROCEDURAL = [name for name in data.DATASETS.names() if name not in data.catalog.SPECS]


@pytest.fixture(scope="module", params=PROCEDURAL)
def dataset(request):
    return data.get(request.param)


def test_is_a_ground_truth_dataset(dataset):
    assert isinstance(dataset, data.GroundTruthDataset)
    assert len(dataset.factor_names) == len(dataset.factor_sizes)
    assert dataset.num_examples == int(np.prod(dataset.factor_sizes))


def test_index_round_trip_over_the_whole_range(dataset):
    index = np.arange(dataset.num_examples)
    factors = np.asarray(dataset.factors_of(index))
    assert factors.min() == 0 and (factors.max(axis=0) == np.array(dataset.factor_sizes) - 1).all()
    np.testing.assert_array_equal(dataset.index_of(factors), index)
    np.testing.assert_array_equal(index, np.ravel_multi_index(factors.T, dataset.factor_sizes))


def test_no_dead_factor_and_determinism(dataset):
    """Changing any single factor changes the image, for several random settings of the rest."""
    key = jax.random.PRNGKey(0)
    base = np.asarray(dataset.sample_factors(key, 6))
    render = jax.jit(dataset.observations_from_factors)
    images = np.asarray(render(base, key))
    np.testing.assert_array_equal(images, np.asarray(render(base, key)))
    assert images.shape == (6, *dataset.observation_shape) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    for k, size in enumerate(dataset.factor_sizes):
        moved = base.copy()
        moved[:, k] = (moved[:, k] + size // 2) % size
        changed = np.abs(np.asarray(render(moved, key)) - images).sum(axis=(1, 2, 3)) > 0
        assert changed.all(), f"factor {dataset.factor_names[k]} did not change some images"
