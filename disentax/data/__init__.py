"""Ground-truth datasets by name: `disentax.data.get("dsprites_procedural")`."""

from disentax.data import dsprites, dsprites_variants, shapes3d, xy  # noqa: F401 (registers)
from disentax.data.base import DATASETS, GroundTruthDataset
from disentax.data.pipeline import procedural_batches
from disentax.registry import call_registered


def get(name: str, **options) -> GroundTruthDataset:
    """The dataset registered as `name`, built with `options`; an unknown name lists the known."""
    return call_registered(DATASETS, name, **options)


__all__ = ["DATASETS", "GroundTruthDataset", "get", "procedural_batches"]
