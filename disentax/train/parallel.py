"""Placement: a `("data",)` mesh (batch split) for one model, a `("pop", "data")` mesh (members
and batch split) for a population, over every device of every host."""

import math

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from disentax.errors import UserError


def initialize_distributed() -> None:
    """Joins a multi-host run: `jax.distributed.initialize()` reads the coordinator address,
    process count and id from the cluster environment (SLURM, TPU pods, or the JAX_* variables).
    Every host then runs the same program; `jax.devices()` spans all hosts."""
    jax.distributed.initialize()


def data_mesh(devices: list | None = None) -> Mesh:
    """A 1-D mesh named `data` over `devices`, by default every device of every process."""
    return Mesh(np.array(devices or jax.devices()), ("data",), axis_types=(AxisType.Auto,))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


def batch_sharded(mesh: Mesh) -> NamedSharding:
    """Leading (batch) axis split over `data`."""
    return NamedSharding(mesh, PartitionSpec("data"))


def stacked_sharded(mesh: Mesh) -> NamedSharding:
    """`[n, B, ...]` batches (n batches a step): the batch axis, the second, split over `data`."""
    return NamedSharding(mesh, PartitionSpec(None, "data"))


def check_batch_size(batch_size: int, mesh: Mesh) -> None:
    n = mesh.devices.size
    if batch_size <= 0 or batch_size % n:
        raise UserError(
            f"batch_size {batch_size} must be a positive multiple of the device count "
            f"({n}); e.g. batch_size={max(n, batch_size // n * n or n)}"
        )


def population_mesh(pop: int, devices: list | None = None) -> Mesh:
    """A 2-D mesh `("pop", "data")` over `devices` (default: every device of every process):
    `pop` rows along the member axis, the remaining `len(devices) / pop` along the batch axis.
    Rows take consecutive devices, so with `jax.devices()` (ordered by process) a member's batch
    stays on as few hosts as possible."""
    devices = list(devices or jax.devices())
    if pop <= 0 or len(devices) % pop:
        divisors = [str(d) for d in range(1, len(devices) + 1) if len(devices) % d == 0]
        raise UserError(
            f"the population axis ({pop}) must divide the device count ({len(devices)}); "
            f"one of {', '.join(divisors)}"
        )
    grid = np.array(devices).reshape(pop, len(devices) // pop)
    return Mesh(grid, ("pop", "data"), axis_types=(AxisType.Auto, AxisType.Auto))


def default_pop_axis(num_members: int, num_devices: int) -> int:
    """The largest population axis that divides both the members and the devices: the
    members spread over devices first, the batch over what is left."""
    return math.gcd(num_members, num_devices)


def member_sharded(mesh: Mesh) -> NamedSharding:
    """Leading (member) axis split over `pop`."""
    return NamedSharding(mesh, PartitionSpec("pop"))


def member_batch_sharded(mesh: Mesh, batches_per_step: int = 1) -> NamedSharding:
    """`[M, B, ...]` batches (`[M, n, B, ...]` for an objective that reads n > 1 batches a
    step): members over `pop`, each member's batch over `data`."""
    if batches_per_step > 1:
        return NamedSharding(mesh, PartitionSpec("pop", None, "data"))
    return NamedSharding(mesh, PartitionSpec("pop", "data"))


def check_population_placement(num_members: int, batch_size: int, mesh: Mesh) -> None:
    """One-line errors for members or a batch that the mesh's axes do not divide."""
    pop, data = mesh.shape["pop"], mesh.shape["data"]
    if num_members % pop:
        raise UserError(
            f"{num_members} members cannot be split over a population axis of {pop} devices; "
            f"use a population axis that divides {num_members}"
        )
    if batch_size % data:
        raise UserError(
            f"batch_size {batch_size} must be a multiple of the mesh's data axis ({data})"
        )
