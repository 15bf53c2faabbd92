"""Input pipelines whose batch for step k is a pure function of (key, k): exact resume for free."""

from collections.abc import Callable

import jax

from disentax.data.base import GroundTruthDataset


def procedural_batches(
    dataset: GroundTruthDataset,
    batch_size: int,
    key: jax.Array,
    sharding: jax.sharding.Sharding | None = None,
) -> Callable[[int], dict]:
    """step -> {"image" `[B, H, W, C]`, "factors" `[B, K]`}, i.i.d. factors as disentanglement_lib
    trains, rendered on the device inside one jit (output placed with `sharding`)."""

    def batch(step):
        factors = dataset.sample_factors(jax.random.fold_in(key, step), batch_size)
        return {"image": dataset.observations_from_factors(factors), "factors": factors}

    return jax.jit(batch, out_shardings=sharding)
