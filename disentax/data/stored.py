"""Ground-truth datasets read once from prepared ArrayRecord files into compact host memory."""

import logging
import pathlib

import jax
import numpy as np

from disentax.data.base import FactorGrid
from disentax.errors import UserError

CHUNK = 4096  # records decoded at a time while loading


def host_rng(rng) -> np.random.Generator:
    """A numpy Generator from a Generator, an int seed or a JAX key (typed or raw uint32)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, jax.Array) and jax.dtypes.issubdtype(rng.dtype, jax.dtypes.prng_key):
        rng = jax.random.key_data(rng)
    return np.random.default_rng(np.asarray(rng, np.uint64).ravel().tolist())


class StoredDataset(FactorGrid):
    """A dataset prepared by `disentax data build`, held in host RAM: uint8 `[N, H*W*C]`, or bits
    packed with `np.packbits` `[N, ceil(H*W*C / 8)]` for binary images (dSprites: 377 MB).

    Record i of the storage grid is flat index i (row-major, last factor fastest). The storage
    grid may hold nuisance factors (smallnorb's instance): they are not among `factor_names` and
    are drawn from `rng` in `observations_from_factors`, as disentanglement_lib does.

    Host-side and NOT jittable: `observations_from_factors` indexes numpy arrays; feed it concrete
    factors (the pipeline's `stored_batches` does), never tracers.
    """

    def __init__(self, path):
        import tensorflow_datasets as tfds

        self.path = pathlib.Path(path)
        try:
            builder = tfds.builder_from_directory(self.path)
            meta = dict(builder.info.metadata)
            storage_names, storage_sizes = meta["factor_names"], meta["factor_sizes"]
            nuisances, self.binary = meta["nuisances"], meta["binary"]
            self.name = meta["name"]
            self.observation_shape = tuple(builder.info.features["image"].shape)
            source = builder.as_data_source(split="train")
            self._images = self._load(source, int(np.prod(storage_sizes)))
        except UserError:
            raise
        except Exception as e:  # a missing or truncated shard, a broken dataset_info.json, ...
            raise UserError(self._corrupted(f"{type(e).__name__}: {e}")) from None
        self.storage_sizes = tuple(storage_sizes)
        self.latent = [k for k, n in enumerate(storage_names) if n not in nuisances]
        self.nuisance = [k for k, n in enumerate(storage_names) if n in nuisances]
        self.factor_names = tuple(storage_names[k] for k in self.latent)
        self.factor_sizes = tuple(storage_sizes[k] for k in self.latent)
        self.nuisance_names = tuple(nuisances)

    def _corrupted(self, reason: str) -> str:
        command = f"disentax data build {self.path.parent.name.removeprefix('disentax_')}"
        return (
            f"{self.path} is not a readable prepared dataset ({reason.splitlines()[0][:200]}); "
            f"rebuild it: {command} --data-dir {self.path.parent.parent}"
        )

    def _load(self, source, n: int) -> np.ndarray:
        """All `n` images, checking that record i holds index i; uint8 `[n, pixels or bytes]`."""
        if len(source) != n:
            raise UserError(self._corrupted(f"{len(source)} records, the grid has {n}"))
        logging.info("loading %d images from %s", n, self.path)
        pixels = int(np.prod(self.observation_shape))
        images = np.empty((n, (pixels + 7) // 8 if self.binary else pixels), np.uint8)
        for start in range(0, n, CHUNK):
            records = source.__getitems__(list(range(start, min(n, start + CHUNK))))
            index = np.array([r["index"] for r in records])
            if not np.array_equal(index, np.arange(start, start + len(records))):
                raise UserError(self._corrupted(f"records {start}... are out of grid order"))
            block = np.stack([r["image"] for r in records]).reshape(len(records), pixels)
            images[start : start + len(records)] = (
                np.packbits(block > 127, axis=1) if self.binary else block
            )
        return images

    @property
    def nbytes(self) -> int:
        """Host memory held by the images."""
        return self._images.nbytes

    def observations_from_factors(self, factors_NxK, rng=None) -> np.ndarray:
        """Images in [0, 1], float32 numpy `[N, H, W, C]`, for concrete int factors `[N, K]`.

        `rng` (numpy Generator, int seed or JAX key) draws the nuisance factors; required when
        the dataset has any, ignored otherwise. Not jittable.
        """
        if isinstance(factors_NxK, jax.core.Tracer):
            raise UserError(f"{self.name} is stored in host memory: call it outside jit")
        self.check_factors(factors_NxK)
        factors = np.asarray(factors_NxK, np.int64)
        full = np.empty((len(factors), len(self.storage_sizes)), np.int64)
        full[:, self.latent] = factors
        if self.nuisance:
            if rng is None:
                raise UserError(
                    f"{self.name}: pass rng to draw the nuisance factors {self.nuisance_names}"
                )
            sizes = np.asarray(self.storage_sizes)[self.nuisance]
            full[:, self.nuisance] = host_rng(rng).integers(0, sizes, (len(factors), len(sizes)))
        rows = self._images[full @ (self.num_storage // np.cumprod(self.storage_sizes))]
        pixels = int(np.prod(self.observation_shape))
        if self.binary:
            images = np.unpackbits(rows, axis=1, count=pixels).astype(np.float32)
        else:
            images = rows.astype(np.float32) / 255
        return images.reshape(len(factors), *self.observation_shape)

    @property
    def num_storage(self) -> int:
        """Records in storage: `num_examples` times the number of nuisance combinations."""
        return int(np.prod(self.storage_sizes))
