"""Ground-truth datasets by name: `disentax.data.get("dsprites_procedural")`."""

import jax
import numpy as np

from disentax.data import catalog, dsprites, dsprites_variants, shapes3d, xy  # noqa: F401
from disentax.data.base import DATASETS, FactorGrid, GroundTruthDataset
from disentax.data.pairs import (
    procedural_pair_batches,
    sample_pair_factors,
    sample_procedural_pairs,
    stored_pair_batches,
)
from disentax.data.pipeline import procedural_batches, sample_procedural, stored_batches
from disentax.data.stored import StoredDataset
from disentax.registry import call_registered


def get(name: str, **options) -> GroundTruthDataset:
    """The dataset registered as `name`, built with `options`; an unknown name lists the known."""
    return call_registered(DATASETS, name, **options)


def is_procedural(dataset: GroundTruthDataset) -> bool:
    """True when images are rendered by a jittable function (on the device, inside jit)."""
    return not isinstance(dataset, StoredDataset)


def sample(dataset: GroundTruthDataset, key: jax.Array, n: int) -> tuple[jax.Array, jax.Array]:
    """`n` i.i.d. (images `[n, H, W, C]`, factors `[n, K]`) from `key`: rendered under jit for
    procedural datasets, gathered on the host for stored ones."""
    if is_procedural(dataset):
        return _sample_on_device(dataset, key, n)
    factor_key, nuisance_key = jax.random.split(key)
    factors = np.asarray(dataset.sample_factors(factor_key, n))
    return jax.numpy.asarray(dataset.observations_from_factors(factors, nuisance_key)), factors


_sample_on_device = jax.jit(sample_procedural, static_argnums=(0, 2))


__all__ = [
    "DATASETS",
    "FactorGrid",
    "GroundTruthDataset",
    "StoredDataset",
    "get",
    "is_procedural",
    "procedural_batches",
    "procedural_pair_batches",
    "sample",
    "sample_pair_factors",
    "sample_procedural_pairs",
    "stored_batches",
    "stored_pair_batches",
]
