"""Each builder round-trips small files in its real format; bad or missing files: one line."""

import gzip
import socket
import tarfile
import time

import h5py
import jax
import numpy as np
import pytest
import scipy.io
from PIL import Image

from disentax.data import builders, catalog
from disentax.data.dsprites import ORIENTATIONS, POSITIONS, SCALES, ProceduralDSprites
from disentax.data.stored import StoredDataset
from disentax.errors import UserError


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("tests must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def grid_factors(sizes) -> np.ndarray:
    return builders.unravel(np.arange(int(np.prod(sizes))), sizes)


def build(name, manual_dir, data_dir, grid, limit=None) -> StoredDataset:
    source = builders.make_source(name, manual_dir, grid)
    assert source.missing_files() == []
    source.validate()
    return StoredDataset(builders.prepare(source, data_dir, limit))


def check_round_trip(dataset: StoredDataset, expected_images: np.ndarray, grid) -> None:
    """Every grid point's observation is the source image at its flat index (uint8 / 255)."""
    factors = grid_factors(grid)
    assert tuple(dataset.factor_sizes) == tuple(grid)
    np.testing.assert_array_equal(np.asarray(dataset.index_of(factors)), np.arange(len(factors)))
    np.testing.assert_array_equal(np.asarray(dataset.factors_of(np.arange(len(factors)))), factors)
    images = dataset.observations_from_factors(factors)
    assert images.dtype == np.float32 and images.shape == expected_images.shape
    np.testing.assert_array_equal(images, expected_images.astype(np.float32) / 255)


def write_dsprites(path, grid=(3, 2, 3, 2, 2)) -> np.ndarray:
    """A dSprites-format npz on a sub-grid, rendered by `dsprites_procedural`; returns imgs."""
    factors = grid_factors(grid)
    imgs = np.asarray(ProceduralDSprites().observations_from_factors(factors))[..., 0]
    imgs = imgs.astype(np.uint8)
    values = np.column_stack(
        [
            np.ones(len(factors)),
            factors[:, 0] + 1.0,
            SCALES[factors[:, 1]],
            ORIENTATIONS[factors[:, 2]],
            POSITIONS[factors[:, 3]],
            POSITIONS[factors[:, 4]],
        ]
    )
    classes = np.column_stack([np.zeros(len(factors), np.int64), factors])
    np.savez_compressed(path, imgs=imgs, latents_classes=classes, latents_values=values)
    return imgs


def test_dsprites_round_trip_values_and_limit(tmp_path):
    grid = (3, 2, 3, 2, 2)
    npz = tmp_path / "manual" / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
    npz.parent.mkdir()
    imgs = write_dsprites(npz, grid)
    dataset = build("dsprites", npz.parent, tmp_path / "data", grid)
    check_round_trip(dataset, imgs[..., None] * 255, grid)
    assert dataset.binary and dataset.nbytes == len(imgs) * 64 * 64 // 8

    import tensorflow_datasets as tfds

    record = tfds.builder_from_directory(dataset.path).as_data_source(split="train")[17]
    np.testing.assert_allclose(record["values"], np.load(npz)["latents_values"][17, 1:], 1e-6)
    np.testing.assert_array_equal(record["factors"], grid_factors(grid)[17])

    limited = build("dsprites", npz.parent, tmp_path / "data", grid, limit=2)
    kept = grid_factors((2, 2, 2, 2, 2))
    assert limited.factor_sizes == (2, 2, 2, 2, 2)
    source_index = kept @ builders.strides(grid)
    np.testing.assert_array_equal(
        limited.observations_from_factors(kept)[..., 0], imgs[source_index].astype(np.float32)
    )


def test_shapes3d_round_trip(tmp_path):
    grid = (2, 2, 2, 2, 2, 3)
    factors = grid_factors(grid)
    images = np.random.default_rng(0).integers(0, 256, (len(factors), 64, 64, 3), np.uint8)
    labels = factors / 10.0
    labels[:, 5] = np.linspace(-30, 30, 3)[factors[:, 5]]
    with h5py.File(tmp_path / "3dshapes.h5", "w") as f:
        f["images"], f["labels"] = images, labels
    dataset = build("shapes3d", tmp_path, tmp_path / "data", grid)
    check_round_trip(dataset, images, grid)
    assert not dataset.binary and dataset.nbytes == images.nbytes


def write_norb(path, array: np.ndarray) -> None:
    """NORB binary matrix: magic, ndim, max(3, ndim) dims, little-endian data."""
    magic = {np.uint8: 0x1E3D4C55, np.int32: 0x1E3D4C54}[array.dtype.type]
    dims = list(array.shape) + [1] * (3 - array.ndim)
    data = np.array([magic, array.ndim, *dims], "<i4").tobytes() + array.tobytes()
    with (gzip.open if str(path).endswith(".gz") else open)(path, "wb") as f:
        f.write(data)


def test_smallnorb_sorts_records_and_draws_the_instance(tmp_path):
    grid = (2, 2, 2, 2, 2)  # category, instance, elevation, azimuth, lighting
    rng = np.random.default_rng(0)
    storage = grid_factors(grid)
    expected = np.empty((len(storage), 64, 64, 1), np.uint8)
    for part, instance, suffix in (("46789", 1, ""), ("01235", 0, ".gz")):
        name = "training" if instance else "testing"
        rows = rng.permutation(np.flatnonzero(storage[:, 1] == instance))
        dat = rng.integers(0, 256, (len(rows), 2, 96, 96), np.uint8)
        info = (storage[rows][:, 1:] * [1, 1, 2, 1]).astype(np.int32)  # azimuth stored as 0, 2
        prefix = tmp_path / f"smallnorb-5x{part}x9x18x6x2x96x96-{name}"
        write_norb(f"{prefix}-dat.mat{suffix}", dat)
        write_norb(f"{prefix}-cat.mat{suffix}", storage[rows][:, 0].astype(np.int32))
        write_norb(f"{prefix}-info.mat{suffix}", info)
        for row, image in zip(rows, dat[:, 0], strict=True):
            expected[row] = np.asarray(Image.fromarray(image).resize((64, 64), Image.LANCZOS))[
                ..., None
            ]
    dataset = build("smallnorb", tmp_path, tmp_path / "data", grid)
    assert dataset.factor_names == ("category", "elevation", "azimuth", "lighting")
    assert dataset.factor_sizes == (2, 2, 2, 2) and dataset.num_storage == 32
    factors = grid_factors(dataset.factor_sizes)
    with pytest.raises(UserError, match="pass rng to draw the nuisance factors"):
        dataset.observations_from_factors(factors)
    by_instance = np.stack(  # [factor index, instance, 64, 64, 1]
        [expected[np.insert(factors, 1, i, axis=1) @ builders.strides(grid)] for i in (0, 1)], 1
    )
    drawn = []
    for seed in range(8):
        images = dataset.observations_from_factors(factors, np.random.default_rng(seed))
        match = (by_instance == np.round(images * 255).astype(np.uint8)[:, None]).all((2, 3, 4))
        assert match.any(axis=1).all()
        drawn.append(match.argmax(axis=1))
    assert set(np.concatenate(drawn)) == {0, 1}
    for rng in (3, jax.random.key(3)):
        np.testing.assert_array_equal(
            dataset.observations_from_factors(factors, rng),
            dataset.observations_from_factors(factors, rng),
        )


@pytest.mark.parametrize("name,grid", [("mpi3d_toy", (2, 2, 1, 1, 1, 2, 3)), ("mpi3d_real", None)])
def test_mpi3d_round_trip(tmp_path, name, grid):
    grid = grid or (3, 1, 1, 1, 2, 1, 2)
    images = np.random.default_rng(1).integers(0, 256, (int(np.prod(grid)), 64, 64, 3), np.uint8)
    np.savez(tmp_path / f"{name}.npz", images=images)
    check_round_trip(build(name, tmp_path, tmp_path / "data", grid), images, grid)


def write_cars(directory, grid, order) -> np.ndarray:
    """Cars3d meshes `im` (128, 128, 3, azimuths, elevations) + list.txt; expected uint8
    `[elevation, azimuth, car, 64, 64, 3]` images with cars numbered in list.txt order."""
    elevations, azimuths, cars = grid
    directory.mkdir(parents=True)
    rng = np.random.default_rng(2)
    expected = np.empty((elevations, azimuths, cars, 64, 64, 3), np.uint8)
    for car, name in enumerate(order):
        im = rng.integers(0, 256, (128, 128, 3, azimuths, elevations), np.uint8)
        scipy.io.savemat(directory / f"{name}.mat", {"im": im})
        for a in range(azimuths):
            for e in range(elevations):
                small = Image.fromarray(im[..., a, e]).resize((64, 64), Image.LANCZOS)
                expected[e, a, car] = np.asarray(small)
    (directory / "list.txt").write_text("\n".join(order) + "\n")
    return expected.reshape(-1, 64, 64, 3)


def test_cars3d_from_directory_and_archive(tmp_path):
    grid = (2, 3, 2)
    expected = write_cars(tmp_path / "dir" / "data" / "cars", grid, ["car_9_mesh", "car_1_mesh"])
    check_round_trip(build("cars3d", tmp_path / "dir", tmp_path / "a", grid), expected, grid)
    archive = tmp_path / "tar" / "nips2015-analogy-data.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "dir" / "data", arcname="data")
    check_round_trip(build("cars3d", archive.parent, tmp_path / "b", grid), expected, grid)


@pytest.mark.parametrize(
    "name,folder,labels_file,grid",
    [
        ("falcor3d", "Falcor3D_down128", "train-rec.labels", (2, 1, 1, 1, 1, 1, 2)),
        ("isaac3d", "Isaac3D_down128", "labels.npy", (2, 1, 1, 1, 1, 1, 1, 1, 3)),
    ],
)
def test_nvlabs_round_trip(tmp_path, name, folder, labels_file, grid):
    root = tmp_path / folder
    (root / "images").mkdir(parents=True)
    factors = grid_factors(grid)
    with open(root / labels_file, "wb") as f:  # np.save would append .npy to the name
        np.save(f, factors / np.maximum(np.asarray(grid) - 1, 1))
    rng = np.random.default_rng(3)
    expected = []
    for i in range(len(factors)):
        image = Image.fromarray(rng.integers(0, 256, (128, 128, 3), np.uint8))
        image.save(root / "images" / f"{i:06d}.png")
        expected.append(np.asarray(image.resize((64, 64), Image.BICUBIC)))
    check_round_trip(build(name, tmp_path, tmp_path / "data", grid), np.stack(expected), grid)


def test_procedural_builder_renders_the_registered_dataset(tmp_path):
    source = builders.make_source("dsprites_procedural", tmp_path)
    dataset = StoredDataset(builders.prepare(source, tmp_path, limit=2))
    factors = grid_factors((2, 2, 2, 2, 2))
    np.testing.assert_array_equal(
        dataset.observations_from_factors(factors),
        np.asarray(ProceduralDSprites().observations_from_factors(factors)),
    )


@pytest.mark.parametrize("name", sorted(catalog.SPECS))
def test_missing_files_fail_fast_naming_them(tmp_path, name):
    start = time.perf_counter()
    for attempt in (
        lambda: catalog.build(name, data_dir=tmp_path),
        lambda: catalog.load(name, data_dir=tmp_path),
    ):
        with pytest.raises(UserError) as error:
            attempt()
        message = str(error.value)
        assert "\n" not in message
        assert catalog.SPECS[name].files[0].rstrip("/") in message
        assert catalog.SPECS[name].home.split()[0] in message
        assert str(catalog.default_manual_dir(name, tmp_path)) in message
        assert f"disentax data build {name} --data-dir {tmp_path}" in message
    assert time.perf_counter() - start < 5


def test_missing_file_message_names_the_given_manual_dir(tmp_path):
    (tmp_path / "m").mkdir()
    write_norb(
        tmp_path / "m" / "smallnorb-5x46789x9x18x6x2x96x96-training-cat.mat", np.zeros(3, np.int32)
    )
    with pytest.raises(UserError) as error:
        catalog.build("smallnorb", tmp_path, manual_dir=tmp_path / "m")
    message = str(error.value)
    assert "training-dat.mat" in message and "training-cat.mat," not in message
    assert f"put them in {tmp_path / 'm'} (given as --manual-dir)" in message and message.endswith(
        f"{tmp_path / 'm'}"
    )


@pytest.mark.parametrize(
    "images,expected",
    [
        (
            np.zeros((16, 64, 64, 3), np.uint8),
            "images is uint8 (16, 64, 64, 3), expected uint8 (460800",
        ),
        (np.zeros((2, 64, 64, 3), np.float32), "images is float32 (2, 64, 64, 3), expected uint8"),
    ],
)
def test_wrong_shape_or_dtype_is_one_line(tmp_path, images, expected):
    np.savez(tmp_path / "mpi3d_toy.npz", images=images)
    with pytest.raises(UserError) as error:
        catalog.build("mpi3d_toy", tmp_path / "data", manual_dir=tmp_path)
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_wrong_format_files_are_one_line(tmp_path):
    (tmp_path / "3dshapes.h5").write_bytes(b"not hdf5")
    (tmp_path / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz").write_bytes(b"not a zip")
    for name, fragment in (
        ("shapes3d", "not a 3dshapes HDF5 file"),
        ("dsprites", "not a readable"),
    ):
        with pytest.raises(UserError, match=fragment) as error:
            catalog.build(name, tmp_path / "data", manual_dir=tmp_path)
        assert "\n" not in str(error.value)
    (tmp_path / "other").mkdir()
    write_dsprites(
        tmp_path / "other" / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz", (3, 1, 1, 1, 2)
    )
    source = builders.make_source("dsprites", tmp_path / "other", grid=(3, 1, 1, 2, 1))
    with pytest.raises(UserError, match="latents_classes are not the row-major grid"):
        source.validate()


def test_published_checksum_is_verified(tmp_path):
    """A full-size smallnorb `cat` file whose bytes differ from the published sha256."""
    for name in catalog.SPECS["smallnorb"].files:
        (tmp_path / name).touch()
    (tmp_path / "smallnorb-5x46789x9x18x6x2x96x96-training-cat.mat").unlink()
    write_norb(
        tmp_path / "smallnorb-5x46789x9x18x6x2x96x96-training-cat.mat.gz",
        np.zeros(24300, np.int32),
    )
    with pytest.raises(UserError, match="differs from the published 2784e542") as error:
        catalog.build("smallnorb", tmp_path / "data", manual_dir=tmp_path)
    assert "\n" not in str(error.value)


def test_limit_must_be_positive(tmp_path):
    with pytest.raises(UserError, match="--limit must be a positive"):
        catalog.build("dsprites_procedural", tmp_path, limit=0)
    with pytest.raises(UserError, match="unknown dataset 'nope'"):
        catalog.build("nope", tmp_path)
