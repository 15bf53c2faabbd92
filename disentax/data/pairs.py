"""Weakly-supervised pairs (Locatello et al. 2020): two observations sharing all but k factors."""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from disentax.data.base import GroundTruthDataset
from disentax.data.pipeline import _local_rows
from disentax.data.stored import host_rng
from disentax.errors import UserError

RANDOM_K = -1  # k ~ U{1, ..., K-1} per pair, disentanglement_lib's `dynamics.k = -1`
DYNAMICS = ("exact", "dlib")


def check_pair_options(dataset: GroundTruthDataset, k: int, dynamics: str) -> None:
    """One-line `UserError` unless k ∈ {1, ..., K−1} or k = −1 and `dynamics` is known."""
    num_factors = len(dataset.factor_sizes)
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise UserError(f"pair k must be an int in 1..{num_factors - 1} or -1, got {k!r}")
    if not (k == RANDOM_K or 1 <= k <= num_factors - 1):
        raise UserError(
            f"pair k must be in 1..{num_factors - 1} (the {num_factors} factors of "
            f"{dataset.name} minus one) or -1 (random per pair), got {k}"
        )
    if dynamics not in DYNAMICS:
        raise UserError(f"pair dynamics must be one of {', '.join(DYNAMICS)}, got {dynamics!r}")
    if dynamics == "exact" and min(dataset.factor_sizes) < 2:
        raise UserError(
            f"pair dynamics 'exact' changes factors to a different value, but {dataset.name} "
            f"has a factor with a single value; use dynamics 'dlib'"
        )


def sample_pair_factors(
    dataset: GroundTruthDataset, key: jax.Array, n: int, k: int, dynamics: str = "exact"
) -> tuple[jax.Array, jax.Array]:
    """`n` pairs of factors (f1 `[n, K]`, f2 `[n, K]`), int32; pure and jittable (`n`, `k` static).

    f1 is uniform i.i.d. For each pair, k_i = k, or k_i ~ U{1, ..., K−1} when k = −1; then
    - "exact" (the paper's setting): k_i factors, chosen uniformly without replacement, are
      changed to a different value (uniform over the other `size − 1` values), so f1 and f2
      share exactly K − k_i factors;
    - "dlib" (disentanglement_lib `train_weak_lib.simple_dynamics`): the number resampled is
      1 or k_i with probability ½ each, and each chosen factor is redrawn uniformly over all its
      values (it may keep its value), so the pair shares at least K − k_i factors.
    """
    check_pair_options(dataset, k, dynamics)
    num_factors = len(dataset.factor_sizes)
    sizes = jnp.asarray(dataset.factor_sizes, jnp.int32)
    keys = jax.random.split(key, 6)
    f1 = dataset.sample_factors(keys[0], n)
    if k == RANDOM_K:
        k_n = jax.random.randint(keys[1], (n,), 1, num_factors, dtype=jnp.int32)
    else:
        k_n = jnp.full((n,), k, jnp.int32)
    if dynamics == "dlib":
        k_n = jnp.where(jax.random.bernoulli(keys[2], 0.5, (n,)), k_n, 1)
    # The factors of rank < k_i in a uniform random order are a uniform k_i-subset.
    rank = jnp.argsort(jnp.argsort(jax.random.uniform(keys[3], (n, num_factors)), axis=1), axis=1)
    chosen = rank < k_n[:, None]
    if dynamics == "exact":
        shift = jax.random.randint(keys[4], (n, num_factors), 1, sizes, dtype=jnp.int32)
        new = (f1 + shift) % sizes
    else:
        new = jax.random.randint(keys[5], (n, num_factors), 0, sizes, dtype=jnp.int32)
    return f1, jnp.where(chosen, new, f1)


def sample_procedural_pairs(
    dataset: GroundTruthDataset, key: jax.Array, n: int, k: int, dynamics: str = "exact"
) -> dict:
    """`n` pairs rendered: {"image", "image_pair"} `[n, H, W, C]`, {"factors", "factors_pair"}
    `[n, K]` from `sample_pair_factors`; the two images get independent nuisances. Jittable."""
    factor_key, nuisance_key, nuisance_key_pair = jax.random.split(key, 3)
    f1, f2 = sample_pair_factors(dataset, factor_key, n, k, dynamics)
    return {
        "image": dataset.observations_from_factors(f1, nuisance_key),
        "image_pair": dataset.observations_from_factors(f2, nuisance_key_pair),
        "factors": f1,
        "factors_pair": f2,
    }


def procedural_pair_batches(
    dataset: GroundTruthDataset,
    batch_size: int,
    key: jax.Array,
    k: int,
    dynamics: str = "exact",
    sharding: jax.sharding.Sharding | None = None,
) -> Callable[[int], dict]:
    """step -> the pair batch of `sample_procedural_pairs` from `fold_in(key, step)`, rendered
    on the device inside one jit (output placed with `sharding`): {"image", "image_pair"}
    float32 `[B, H, W, C]`, {"factors", "factors_pair"} int32 `[B, K]`; row i of each is pair i."""
    check_pair_options(dataset, k, dynamics)

    def batch(step):
        return sample_procedural_pairs(
            dataset, jax.random.fold_in(key, step), batch_size, k, dynamics
        )

    return jax.jit(batch, out_shardings=sharding)


def stored_pair_batches(
    dataset: GroundTruthDataset,
    batch_size: int,
    key: jax.Array,
    k: int,
    dynamics: str = "exact",
    sharding: jax.sharding.Sharding | None = None,
) -> Callable[[int], dict]:
    """step -> the same pair batch layout as `procedural_pair_batches`, for datasets whose
    `observations_from_factors` runs on the host (a `StoredDataset`): the global factor pairs of
    step s are `sample_pair_factors(fold_in(key, s))` (identical on every process), each process
    gathers the images of the rows its devices hold (nuisances from that step's key and the first
    local row), then they are placed with `jax.make_array_from_process_local_data` (or
    `jax.device_put` without `sharding`)."""
    check_pair_options(dataset, k, dynamics)
    rows = _local_rows(sharding, (batch_size, *dataset.observation_shape))
    pair_factors = jax.jit(
        lambda step_key: sample_pair_factors(dataset, step_key, batch_size, k, dynamics)
    )

    def batch(step: int) -> dict:
        step_key = jax.random.fold_in(key, step)
        f1, f2 = (np.asarray(f)[rows] for f in pair_factors(step_key))
        nuisance_key = jax.random.fold_in(step_key, rows.start)
        local = {
            "image": np.asarray(dataset.observations_from_factors(f1, host_rng(nuisance_key))),
            "image_pair": np.asarray(
                dataset.observations_from_factors(f2, host_rng(jax.random.fold_in(nuisance_key, 1)))
            ),
            "factors": f1,
            "factors_pair": f2,
        }
        if sharding is None:
            return jax.device_put(local)
        return {
            name: jax.make_array_from_process_local_data(
                sharding, value, (batch_size, *value.shape[1:])
            )
            for name, value in local.items()
        }

    return batch
