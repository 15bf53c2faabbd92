"""StoredDataset: grid order, compact memory, corruption as one line; stored_batches determinism."""

import shutil
import socket

import jax
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from disentax.data import builders, catalog
from disentax.data.pipeline import stored_batches
from disentax.errors import UserError


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("tests must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)


MPI3D_GRID = (2, 1, 1, 1, 1, 2, 3)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A data dir with dsprites_procedural (binary, 2^5 grid) and mpi3d_toy (RGB, 12 images from
    an npz in the real format); returns (data dir, the mpi3d images)."""
    data_dir = tmp_path_factory.mktemp("data")
    catalog.build("dsprites_procedural", data_dir, limit=2)
    shape = (int(np.prod(MPI3D_GRID)), 64, 64, 3)
    images = np.random.default_rng(0).integers(0, 256, shape, np.uint8)
    np.savez(data_dir / "mpi3d_toy.npz", images=images)
    builders.prepare(builders.make_source("mpi3d_toy", data_dir, MPI3D_GRID), data_dir)
    return data_dir, images


@pytest.fixture(scope="module")
def sprites(prepared):
    return catalog.load("dsprites_procedural", prepared[0])


def all_factors(dataset) -> np.ndarray:
    return builders.unravel(np.arange(dataset.num_examples), dataset.factor_sizes)


@pytest.mark.parametrize("name", ["dsprites_procedural", "mpi3d_toy"])
def test_records_follow_the_grid_and_match_the_source(prepared, name):
    from disentax.data import get

    stored = catalog.load(name, prepared[0])
    factors = all_factors(stored)
    np.testing.assert_array_equal(np.asarray(stored.index_of(factors)), np.arange(len(factors)))
    np.testing.assert_array_equal(np.asarray(stored.factors_of(np.arange(len(factors)))), factors)
    images = stored.observations_from_factors(factors)
    assert images.dtype == np.float32
    assert images.shape == (len(factors), *stored.observation_shape)
    if name == "mpi3d_toy":
        assert stored.factor_sizes == MPI3D_GRID
        np.testing.assert_array_equal(images, prepared[1] / np.float32(255))
    else:
        rendered = np.asarray(get(name).observations_from_factors(factors))
        np.testing.assert_array_equal(images, rendered)
    picked = factors[[5, 0, 5]]
    np.testing.assert_array_equal(stored.observations_from_factors(picked), images[[5, 0, 5]])


def test_binary_images_are_packed_bits(prepared, sprites):
    assert sprites.binary and sprites._images.dtype == np.uint8
    assert sprites.nbytes == sprites.num_storage * 64 * 64 // 8
    full_dsprites = 737_280 * sprites.nbytes // sprites.num_storage
    assert full_dsprites < 500e6  # 377 MB, against 2.8 GB as uint8 and 12 GB as float32
    mpi3d = catalog.load("mpi3d_toy", prepared[0])
    assert not mpi3d.binary and mpi3d.nbytes == prepared[1].nbytes


def test_bad_factors_and_tracers_are_one_line_errors(sprites):
    with pytest.raises(UserError, match="factor 'scale' must be in \\[0, 1\\], got 2"):
        sprites.observations_from_factors(np.array([[0, 2, 0, 0, 0]]))
    with pytest.raises(UserError, match="call it outside jit"):
        jax.jit(sprites.observations_from_factors)(np.zeros((1, 5), np.int32))


def corrupt_copy(prepared, tmp_path, damage) -> str:
    data_dir = tmp_path / "data"
    shutil.copytree(
        prepared[0] / "disentax_dsprites_procedural", data_dir / "disentax_dsprites_procedural"
    )
    path = catalog.prepared_path("dsprites_procedural", data_dir)
    damage(path, next(path.glob("*.array_record-*")))
    return data_dir


def truncate(path, shard):
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])


@pytest.mark.parametrize(
    "damage",
    [
        truncate,
        lambda path, shard: shard.unlink(),
        lambda path, shard: (path / "dataset_info.json").write_text("{"),
        lambda path, shard: (path / "metadata.json").unlink(),
    ],
    ids=["truncated shard", "missing shard", "bad dataset_info", "no metadata"],
)
def test_corrupted_prepared_dataset_says_rebuild(prepared, tmp_path, damage):
    data_dir = corrupt_copy(prepared, tmp_path, damage)
    with pytest.raises(UserError) as error:
        catalog.load("dsprites_procedural", data_dir)
    message = str(error.value)
    assert "\n" not in message and "is not a readable prepared dataset" in message
    assert f"rebuild it: disentax data build dsprites_procedural --data-dir {data_dir}" in message
    catalog.build("dsprites_procedural", data_dir, limit=2)  # the advice works
    assert catalog.load("dsprites_procedural", data_dir).num_examples == 32


def test_iid_batches_are_a_pure_function_of_seed_and_step(sprites):
    batches = stored_batches(sprites, 8, seed=3)
    first, again = batches(4), stored_batches(sprites, 8, seed=3)(4)
    for key in ("image", "factors"):
        assert isinstance(first[key], jax.Array)
        np.testing.assert_array_equal(first[key], again[key])
    assert first["factors"].dtype == np.int32 and first["image"].shape == (8, 64, 64, 1)
    np.testing.assert_array_equal(
        first["image"], sprites.observations_from_factors(np.asarray(first["factors"]))
    )
    assert not np.array_equal(first["factors"], batches(5)["factors"])
    assert not np.array_equal(first["factors"], stored_batches(sprites, 8, seed=4)(4)["factors"])


def test_epochs_visit_every_example_once_per_epoch(sprites):
    batches = stored_batches(sprites, 5, seed=0, mode="epochs")
    visited = np.concatenate(
        [np.asarray(sprites.index_of(np.asarray(batches(step)["factors"]))) for step in range(13)]
    )  # 65 positions: epoch 0 (32), epoch 1 (32), 1 of epoch 2; steps 6 and 12 straddle
    for epoch in range(2):
        np.testing.assert_array_equal(
            np.sort(visited[32 * epoch : 32 * (epoch + 1)]), np.arange(32)
        )
    assert not np.array_equal(visited[:32], visited[32:64])
    fresh = stored_batches(sprites, 5, seed=0, mode="epochs")(6)
    np.testing.assert_array_equal(fresh["factors"], batches(6)["factors"])


def test_sharded_batches_equal_unsharded(sprites):
    mesh = Mesh(np.array(jax.devices()), ("data",))
    sharding = NamedSharding(mesh, PartitionSpec("data"))
    sharded = stored_batches(sprites, 4, seed=1, sharding=sharding)(2)
    plain = stored_batches(sprites, 4, seed=1)(2)
    assert sharded["image"].sharding == sharding
    np.testing.assert_array_equal(sharded["image"], plain["image"])
    with pytest.raises(UserError, match="mode must be 'iid' or 'epochs'"):
        stored_batches(sprites, 4, seed=1, mode="shuffle")
