"""Input pipelines whose batch for step k is a pure function of (key or seed, k): exact resume."""

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from disentax.data.base import GroundTruthDataset
from disentax.errors import UserError


def sample_procedural(dataset: GroundTruthDataset, key: jax.Array, n: int):
    """`n` i.i.d. (images `[n, H, W, C]`, factors `[n, K]`) from `key`: factors from one half of
    the split key, nuisances from the other. Pure and jittable (`n` static)."""
    factor_key, nuisance_key = jax.random.split(key)
    factors = dataset.sample_factors(factor_key, n)
    return dataset.observations_from_factors(factors, nuisance_key), factors


def procedural_batches(
    dataset: GroundTruthDataset,
    batch_size: int,
    key: jax.Array,
    sharding: jax.sharding.Sharding | None = None,
) -> Callable[[int], dict]:
    """step -> {"image" `[B, H, W, C]`, "factors" `[B, K]`}, i.i.d. factors as disentanglement_lib
    trains, rendered on the device inside one jit (output placed with `sharding`)."""
    return jax.jit(
        lambda step: procedural_step_batch(dataset, key, step, batch_size),
        out_shardings=sharding,
    )


def procedural_step_batch(
    dataset: GroundTruthDataset, key: jax.Array, step, batch_size: int, batches_per_step: int = 1
) -> dict:
    """The i.i.d. batch of `step` (traceable): {"image" `[B, H, W, C]`, "factors" `[B, K]`}
    rendered from `fold_in(key, step)`; with n = `batches_per_step` > 1, n batches stacked
    `[n, B, ...]`, batch i from `fold_in(fold_in(key, step), i)`."""

    def render(batch_key):
        images, factors = sample_procedural(dataset, batch_key, batch_size)
        return {"image": images, "factors": factors}

    step_key = jax.random.fold_in(key, step)
    if batches_per_step == 1:
        return render(step_key)
    indices = jnp.arange(batches_per_step)
    return jax.lax.map(lambda i: render(jax.random.fold_in(step_key, i)), indices)


def _local_rows(sharding: jax.sharding.Sharding | None, global_shape: tuple[int, ...]) -> slice:
    """The rows of the global batch that this process's devices hold (all rows without sharding)."""
    if sharding is None:
        return slice(0, global_shape[0])
    bounds = [
        index[0].indices(global_shape[0])[:2]
        for index in sharding.addressable_devices_indices_map(global_shape).values()
    ]
    return slice(min(b[0] for b in bounds), max(b[1] for b in bounds))


def stored_batches(
    dataset: GroundTruthDataset,
    batch_size: int,
    seed: int,
    *,
    mode: str = "iid",
    sharding: jax.sharding.Sharding | None = None,
) -> Callable[[int], dict]:
    """step -> {"image" float32 `[B, H, W, C]`, "factors" int32 `[B, K]`} made on the host from a
    dataset with host-side `observations_from_factors` (a `StoredDataset`), then placed on the
    devices: `jax.make_array_from_process_local_data(sharding, ...)` (each process reads only the
    rows its devices hold; multi-host ready) or `jax.device_put` when `sharding` is None.

    The global batch for step k is a pure function of (seed, k), so resuming is exact:
    - "iid": factors uniform from `np.random.default_rng([seed, 0, k])`, as disentanglement_lib;
    - "epochs": example positions k*B ... (k+1)*B - 1 of the endless sequence of permutations of
      all `num_examples` grid points, one per epoch e from `default_rng([seed, 1, e])`.
    Nuisances (if any) are drawn from `default_rng([seed, 2, k, first local row])`.
    """
    if mode not in ("iid", "epochs"):
        raise UserError(f"mode must be 'iid' or 'epochs', got {mode!r}")
    sizes = tuple(dataset.factor_sizes)
    num_examples = int(np.prod(sizes))
    rows = _local_rows(sharding, (batch_size, *dataset.observation_shape))

    @functools.lru_cache(maxsize=2)
    def permutation(epoch: int) -> np.ndarray:
        return np.random.default_rng([seed, 1, epoch]).permutation(num_examples)

    def global_factors(step: int) -> np.ndarray:
        if mode == "iid":
            rng = np.random.default_rng([seed, 0, step])
            return rng.integers(0, sizes, (batch_size, len(sizes)))
        epoch, offset = np.divmod(
            np.arange(step * batch_size, (step + 1) * batch_size), num_examples
        )
        index = np.concatenate([permutation(e)[offset[epoch == e]] for e in np.unique(epoch)])
        return np.stack(np.unravel_index(index, sizes), axis=1)

    def batch(step: int) -> dict:
        factors = global_factors(step)[rows].astype(np.int32)
        nuisance_rng = np.random.default_rng([seed, 2, step, rows.start])
        local = {
            "image": np.asarray(dataset.observations_from_factors(factors, nuisance_rng)),
            "factors": factors,
        }
        if sharding is None:
            return jax.device_put(local)
        return {
            key: jax.make_array_from_process_local_data(
                sharding, value, (batch_size, *value.shape[1:])
            )
            for key, value in local.items()
        }

    return batch
