"""Data parallel: a `("data",)` mesh over every device of every host; batch split."""

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


def check_batch_size(batch_size: int, mesh: Mesh) -> None:
    n = mesh.devices.size
    if batch_size <= 0 or batch_size % n:
        raise UserError(
            f"batch_size {batch_size} must be a positive multiple of the device count "
            f"({n}); e.g. batch_size={max(n, batch_size // n * n or n)}"
        )
