"""Ground-truth datasets by name: `disentax.data.get("dsprites_procedural")`."""

import dataclasses
import types
import typing

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
from disentax.data.pipeline import (
    procedural_batches,
    procedural_step_batch,
    sample_procedural,
    stored_batches,
)
from disentax.data.stored import StoredDataset
from disentax.errors import UserError
from disentax.registry import call_registered


def get(name: str, **options) -> GroundTruthDataset:
    """The dataset registered as `name`, built with `options`; an unknown name lists the known,
    an unknown option or one of the wrong type (for the dataclass datasets) is a one-line error."""
    factory = DATASETS.get(name)
    if dataclasses.is_dataclass(factory):
        check_options(name, factory, options)
    return call_registered(DATASETS, name, **options)


def check_options(name: str, cls: type, options: dict) -> None:
    """Raises a `UserError` unless every option is an init field of dataclass `cls` holding a
    value of its annotated type (an int is accepted for a float, a bool for nothing else)."""
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls) if f.init]
    for key, value in options.items():
        if key not in known:
            raise UserError(
                f"dataset {name!r} has no option {key!r}; options: {', '.join(known) or 'none'}"
            )
        hint = hints[key]
        allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        if not all(isinstance(a, type) for a in allowed):
            continue  # a generic annotation (tuple[int, ...]): left to the constructor
        ok = any(
            isinstance(value, bool) == (a is bool)
            and (isinstance(value, a) or (a is float and isinstance(value, int)))
            for a in allowed
        )
        if not ok:
            names = " or ".join(getattr(a, "__name__", str(a)) for a in allowed)
            raise UserError(f"dataset {name!r}: option {key!r} must be {names}, got {value!r}")


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
    "procedural_step_batch",
    "procedural_pair_batches",
    "sample",
    "sample_pair_factors",
    "sample_procedural_pairs",
    "stored_batches",
    "stored_pair_batches",
]
