"""TFDS builders that write ground-truth datasets as grid-ordered ArrayRecord files, without TF."""

import functools
import gzip
import hashlib
import io
import pathlib
import shutil
import tarfile
import types
import zipfile
import zlib
from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import tensorflow_datasets as tfds
from PIL import Image

from disentax.data.base import DATASETS
from disentax.data.specs import SPECS, VERSION, Spec
from disentax.errors import UserError

CHUNK = 2048  # images read or rendered at a time
Example = tuple[np.ndarray, np.ndarray]  # (image uint8 [H, W, C], values float [K])


def strides(sizes) -> np.ndarray:
    """Flat-index weight of each factor, row-major: `prod(sizes) / cumprod(sizes)`, int64 `[K]`."""
    return int(np.prod(sizes)) // np.cumprod(sizes, dtype=np.int64)


def unravel(index_N, sizes) -> np.ndarray:
    """Flat row-major indices -> factor vectors, int64 `[N, K]`."""
    return np.stack(np.unravel_index(np.asarray(index_N, np.int64), tuple(sizes)), axis=1)


def check_shape(path, what: str, shape, dtype, want_shape, want_dtypes) -> None:
    """One-line `UserError` unless `shape == want_shape` and `dtype` is one of `want_dtypes`."""
    want_dtypes = [
        np.dtype(d) for d in (want_dtypes if isinstance(want_dtypes, tuple) else (want_dtypes,))
    ]
    if tuple(shape) != tuple(want_shape) or np.dtype(dtype) not in want_dtypes:
        raise UserError(
            f"{path}: {what} is {np.dtype(dtype)} {tuple(shape)}, expected "
            f"{'/'.join(map(str, want_dtypes))} {tuple(want_shape)}; is it the right file?"
        )


def check_digest(path: pathlib.Path, algorithm: str, expected: str) -> None:
    """One-line `UserError` unless the file's `algorithm` (md5, sha256) digest is `expected`."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise UserError(
            f"{path}: {algorithm} {digest.hexdigest()} differs from the published {expected}; "
            "the file is damaged or another version: download it again"
        )


def _npy_header(f) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(f)
    read = {(1, 0): np.lib.format.read_array_header_1_0}.get(
        version, np.lib.format.read_array_header_2_0
    )
    shape, fortran_order, dtype = read(f)
    if fortran_order:
        raise ValueError("Fortran-ordered arrays are not supported")
    return shape, dtype


def _npz_member(path: pathlib.Path, key: str):
    try:
        archive = zipfile.ZipFile(path)
        return archive, archive.open(f"{key}.npy")
    except (zipfile.BadZipFile, OSError) as e:
        raise UserError(f"{path}: not a readable .npz file ({e})") from None
    except KeyError:
        raise UserError(f"{path}: has no array {key!r}; is it the right file?") from None


def npz_header(path: pathlib.Path, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of the array `key` in an .npz, without reading its data."""
    archive, f = _npz_member(path, key)
    with archive, f:
        try:
            return _npy_header(f)
        except ValueError as e:
            raise UserError(f"{path}: {key} is not a readable array ({e})") from None


_READ_ERRORS = (ValueError, OSError, EOFError, zlib.error, zipfile.BadZipFile)


def npz_array(path: pathlib.Path, key: str) -> np.ndarray:
    """The whole array `key` of an .npz (for the small ones: labels, latents)."""
    archive, f = _npz_member(path, key)
    with archive, f:
        try:
            return np.lib.format.read_array(f)
        except _READ_ERRORS as e:
            raise UserError(f"{path}: {key} is unreadable ({e}); download it again") from None


def npz_rows(path: pathlib.Path, key: str, positions_N: np.ndarray) -> Iterator[np.ndarray]:
    """Rows `positions_N` (ascending) of the array `key` in an .npz, streamed block by block: a
    2.8 GB compressed image array is decompressed once and never held whole."""
    archive, f = _npz_member(path, key)
    with archive, f:
        shape, dtype = _npy_header(f)
        start, row = f.tell(), dtype.itemsize * int(np.prod(shape[1:]))
        blocks = np.asarray(positions_N) // CHUNK
        for group in np.split(np.asarray(positions_N), np.flatnonzero(np.diff(blocks)) + 1):
            first = int(group[0]) // CHUNK * CHUNK
            f.seek(start + first * row)
            n = min(CHUNK, shape[0] - first)
            try:
                data = f.read(n * row)
            except _READ_ERRORS as e:
                raise UserError(f"{path}: {key} is unreadable ({e}); download it again") from None
            if len(data) != n * row:
                raise UserError(f"{path}: {key} is truncated; download the file again")
            block = np.frombuffer(data, dtype).reshape((n, *shape[1:]))
            yield from block[group - first]


def _resize(image: np.ndarray, size: int, resample) -> np.ndarray:
    """uint8 `[H, W]` or `[H, W, 3]` -> uint8 `[size, size, C]` with Pillow."""
    out = np.asarray(Image.fromarray(image).resize((size, size), resample))
    return out if out.ndim == 3 else out[..., None]


class Source:
    """The files of one dataset in a manual directory: what is missing, validation, reading.

    `grid` is the factor grid the files hold, in storage order (default: the real one,
    `spec.factor_sizes`); tests use smaller grids in the same file formats, for which published
    checksums are not checked.
    """

    spec: ClassVar[Spec]

    def __init__(self, manual_dir, grid=None):
        self.manual_dir = pathlib.Path(manual_dir).expanduser()
        self.grid = tuple(grid or self.spec.factor_sizes)
        if len(self.grid) != len(self.spec.factor_sizes):
            raise UserError(f"{self.spec.name}: grid needs {len(self.spec.factor_sizes)} sizes")

    @property
    def size(self) -> int:
        return int(np.prod(self.grid))

    @property
    def official(self) -> bool:
        return self.grid == self.spec.factor_sizes

    def path(self, name: str) -> pathlib.Path:
        return self.manual_dir / name

    def missing_files(self) -> list[str]:
        """The spec's files that are not in the manual directory."""
        return [name for name in self.spec.files if not self.path(name).exists()]

    def validate(self) -> None:
        """Checks shapes, dtypes and published checksums; one-line `UserError`s."""

    def read(self, positions_N: np.ndarray) -> Iterator[Example]:
        """(image, values) for each flat grid index in `positions_N` (ascending), in that order;
        images are uint8 `observation_shape`, `round(255 * x)` of images in [0, 1]."""
        raise NotImplementedError


class DSprites(Source):
    """`imgs` uint8 (737280, 64, 64) in {0, 1}; `latents_classes`/`latents_values` (737280, 6),
    colour first (size 1, dropped). No published checksum for the .npz: shapes are checked."""

    spec = SPECS["dsprites"]

    def validate(self):
        path = self.path(self.spec.files[0])
        check_shape(path, "imgs", *npz_header(path, "imgs"), (self.size, 64, 64), np.uint8)
        classes = npz_array(path, "latents_classes")
        check_shape(path, "latents_classes", *_sd(classes), (self.size, 6), (np.int64, np.int32))
        values = npz_array(path, "latents_values")
        check_shape(path, "latents_values", *_sd(values), (self.size, 6), (np.float64, np.float32))
        if classes[:, 0].any() or not np.array_equal(
            classes[:, 1:], unravel(np.arange(self.size), self.grid)
        ):
            raise UserError(f"{path}: latents_classes are not the row-major grid {self.grid}")

    def read(self, positions_N):
        path = self.path(self.spec.files[0])
        values = npz_array(path, "latents_values")[:, 1:]
        for p, image in zip(positions_N, npz_rows(path, "imgs", positions_N), strict=True):
            if image.max() > 1:
                raise UserError(f"{path}: imgs must hold 0/1 pixels, image {p} has {image.max()}")
            yield image[..., None] * np.uint8(255), values[p]


def _sd(array: np.ndarray):
    return array.shape, array.dtype


def check_label_grid(path, labels_NxK: np.ndarray, grid) -> None:
    """One-line `UserError` unless column k of the float labels takes `grid[k]` values and the
    rows enumerate the grid in row-major order."""
    classes = np.empty(labels_NxK.shape, np.int64)
    for k, size in enumerate(grid):
        values, classes[:, k] = np.unique(np.round(labels_NxK[:, k], 6), return_inverse=True)
        if len(values) != size:
            raise UserError(f"{path}: label {k} takes {len(values)} values, expected {size}")
    if not np.array_equal(classes, unravel(np.arange(len(classes)), grid)):
        raise UserError(f"{path}: the images are not in row-major factor order {tuple(grid)}")


class Shapes3D(Source):
    """`3dshapes.h5`: `images` uint8 (480000, 64, 64, 3), `labels` float (480000, 6); sha256
    from tfds' checksums for storage.googleapis.com/3d-shapes/3dshapes.h5."""

    spec = SPECS["shapes3d"]
    SHA256 = "0a0f6ed98baff276a50f3a081a7434d788da63cb135a98189b2a5b5769be1785"

    def _open(self):
        import h5py

        path = self.path(self.spec.files[0])
        try:
            f = h5py.File(path, "r")
            return path, f, f["images"], f["labels"]
        except (OSError, KeyError) as e:
            raise UserError(f"{path}: not a 3dshapes HDF5 file ({e})") from None

    def validate(self):
        path, f, images, labels = self._open()
        with f:
            check_shape(path, "images", *_sd(images), (self.size, 64, 64, 3), np.uint8)
            check_shape(path, "labels", *_sd(labels), (self.size, 6), (np.float64, np.float32))
            check_label_grid(path, labels[()], self.grid)
        if self.official:
            check_digest(path, "sha256", self.SHA256)

    def read(self, positions_N):
        _, f, images, labels = self._open()
        with f:
            labels = labels[()]
            for start in range(0, len(positions_N), CHUNK):
                chunk = positions_N[start : start + CHUNK]
                lo, hi = int(chunk[0]), int(chunk[-1]) + 1
                block = images[lo:hi][chunk - lo] if hi - lo <= 4 * len(chunk) else images[chunk]
                yield from zip(block, labels[chunk], strict=True)


_NORB_DTYPES = {0x1E3D4C55: np.uint8, 0x1E3D4C54: np.int32}


def _norb_open(path: pathlib.Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def norb_header(path: pathlib.Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, header bytes) of a NORB binary matrix (`.mat` or `.mat.gz`): int32 magic,
    int32 ndim, max(3, ndim) int32 dims, then the little-endian data."""
    try:
        with _norb_open(path) as f:
            magic, ndim = (int(x) for x in np.frombuffer(f.read(8), "<i4"))
            if magic not in _NORB_DTYPES or not 0 < ndim <= 8:
                raise ValueError(f"magic {magic:#x}, {ndim} dimensions")
            dims = np.frombuffer(f.read(4 * max(3, ndim)), "<i4")
    except (OSError, ValueError, EOFError) as e:
        raise UserError(f"{path}: not a NORB binary matrix ({e})") from None
    return tuple(int(d) for d in dims[:ndim]), np.dtype(_NORB_DTYPES[magic]), 8 + len(dims) * 4


def norb_array(path: pathlib.Path) -> np.ndarray:
    shape, dtype, offset = norb_header(path)
    with _norb_open(path) as f:
        data = f.read()
    if len(data) != offset + int(np.prod(shape)) * dtype.itemsize:
        raise UserError(f"{path}: truncated; download the file again")
    return np.frombuffer(data, dtype, offset=offset).reshape(shape)


class SmallNorb(Source):
    """The 6 NORB binary matrices (`.mat`, or `.mat.gz` checked against tfds' published sha256):
    per part `dat` uint8 (24300, 2, 96, 96) (the first camera is used), `cat` int32 (24300,),
    `info` int32 (24300, 4) = instance, elevation, azimuth (0, 2, ..., 34), lighting.

    Storage factors are (category, instance, elevation, azimuth / 2, lighting), as
    disentanglement_lib; images are resized 96 -> 64 with Lanczos (PIL's ANTIALIAS).
    """

    spec = SPECS["smallnorb"]
    SHA256 = {
        "training-dat": "5ffd6272a07d32695ee1082a26a41a93a37aab8c28da047f8c34ed348d214873",
        "training-cat": "2784e542c1922060691090952b6cd6278879a216c90f81476f0f00256d42cdaa",
        "training-info": "de7eb932ebe7a4ee16217fead60660d0eb3d23632c2f4d1c51f88c501c17bf32",
        "testing-dat": "cf7104eed3e51174d2f65b66d1e5878b9da233b886f161b0d88f4510ba2c7474",
        "testing-cat": "ecaf6d5bb8c3bc5eab9cf0258f6d2198dd474e016e374836fc097f2e5ff509ff",
        "testing-info": "16adf314226327ee006d1a44db8cfef52773c06c829951d5653a9f6f310248a2",
    }

    def path(self, name):
        plain = self.manual_dir / name
        gz = self.manual_dir / f"{name}.gz"
        return gz if gz.exists() and not plain.exists() else plain

    def _parts(self) -> list[tuple[pathlib.Path, pathlib.Path, pathlib.Path]]:
        files = [self.path(name) for name in self.spec.files]
        return [tuple(files[:3]), tuple(files[3:])]

    def validate(self):
        total = 0
        for dat, cat, info in self._parts():
            for path in (cat, info, dat):
                key = path.name.split("96x96-")[1].split(".")[0]
                if self.official and path.suffix == ".gz":
                    check_digest(path, "sha256", self.SHA256[key])
            n = norb_header(cat)[0][0]
            check_shape(dat, "dat", *norb_header(dat)[:2], (n, 2, 96, 96), np.uint8)
            check_shape(cat, "cat", *norb_header(cat)[:2], (n,), np.int32)
            check_shape(info, "info", *norb_header(info)[:2], (n, 4), np.int32)
            total += n
        if total != self.size:
            raise UserError(
                f"{self.manual_dir}: the two parts hold {total} images, not {self.size}"
            )
        self._rows()

    def _rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(part, row) of each flat grid index, and its storage factors `[N, 5]`."""
        labels = [np.column_stack([norb_array(c), norb_array(i)]) for _, c, i in self._parts()]
        factors = np.concatenate(labels).astype(np.int64)
        factors[:, 3] //= 2  # azimuth 0, 2, ..., 34 -> 0, ..., 17
        if (factors < 0).any() or (factors >= np.asarray(self.grid)).any():
            raise UserError(f"{self.manual_dir}: NORB labels fall outside the grid {self.grid}")
        flat = factors @ strides(self.grid)
        if not (np.bincount(flat, minlength=self.size) == 1).all():
            raise UserError(f"{self.manual_dir}: NORB labels do not cover the grid exactly once")
        order = np.argsort(flat)  # source row (both parts concatenated) of each flat index
        second = order >= len(labels[0])
        return second.astype(int), order - second * len(labels[0]), factors[order]

    def read(self, positions_N):
        parts, rows, factors = self._rows()
        images = [norb_array(dat)[:, 0].copy() for dat, _, _ in self._parts()]
        degrees = np.array([1, 1, 5, 20, 1], np.float32), np.array([0, 0, 30, 0, 0], np.float32)
        for p in positions_N:
            image = _resize(images[parts[p]][rows[p]], 64, Image.LANCZOS)
            yield image, factors[p] * degrees[0] + degrees[1]


class Mpi3D(Source):
    """`images` uint8 (N, 64, 64, 3) in the row-major grid order; md5 as published by disent."""

    MD5: ClassVar[str]

    def validate(self):
        path = self.path(self.spec.files[0])
        check_shape(path, "images", *npz_header(path, "images"), (self.size, 64, 64, 3), np.uint8)
        if self.official:
            check_digest(path, "md5", self.MD5)

    def read(self, positions_N):
        path = self.path(self.spec.files[0])
        values = unravel(positions_N, self.grid).astype(np.float32)
        yield from zip(npz_rows(path, "images", positions_N), values, strict=True)


class Mpi3DToy(Mpi3D):
    spec = SPECS["mpi3d_toy"]
    MD5 = "55889cb7c7dfc655d6e0277beee88868"


class Mpi3DRealistic(Mpi3D):
    spec = SPECS["mpi3d_realistic"]
    MD5 = "59a6225b88b635365f70c91b3e52f70f"


class Mpi3DReal(Mpi3D):
    spec = SPECS["mpi3d_real"]
    MD5 = "0f33f609918fb5c97996692f91129802"


class Cars3D(Source):
    """`nips2015-analogy-data.tar.gz` (md5 as published by disent) or its extracted `data/cars/`:
    `car_*_mesh.mat` files with `im` uint8 (128, 128, 3, 24 azimuths, 4 elevations). Objects are
    numbered in `list.txt` order (sorted names without it); images are resized to 64 with
    Lanczos, as disentanglement_lib."""

    spec = SPECS["cars3d"]
    MD5 = "4e866a7919c1beedf53964e6f7a23686"

    def _directory(self) -> pathlib.Path | None:
        found = [d for d in (self.path("data/cars"), self.path("cars")) if d.is_dir()]
        return found[0] if found else None

    def missing_files(self):
        return [] if self._directory() else super().missing_files()

    def validate(self):
        directory = self._directory()
        if not directory:
            if self.official:
                check_digest(self.path(self.spec.files[0]), "md5", self.MD5)
            return
        meshes = sorted(directory.glob("*.mat"))
        if len(meshes) != self.grid[2]:
            raise UserError(f"{directory}: {len(meshes)} .mat files, expected {self.grid[2]}")
        self._mesh(meshes[0].name, meshes[0].read_bytes())

    def _mesh(self, name: str, data: bytes) -> list[list[np.ndarray]]:
        """One car's images resized to 64, `[azimuth][elevation]` -> uint8 `[64, 64, 3]`."""
        from scipy.io import loadmat

        elevations, azimuths, _ = self.grid
        try:
            im = loadmat(io.BytesIO(data))["im"]
        except (ValueError, KeyError, OSError) as e:
            raise UserError(f"{name}: not a cars3d mesh .mat file ({e})") from None
        check_shape(name, "im", *_sd(im), (128, 128, 3, azimuths, elevations), np.uint8)
        return [
            [_resize(im[..., a, e], 64, Image.LANCZOS) for e in range(elevations)]
            for a in range(azimuths)
        ]

    def _files(self) -> Iterator[tuple[str, bytes]]:
        """(file name, bytes) of each `.mat` and `list.txt` of the cars directory or archive."""
        directory = self._directory()
        if directory:
            for path in sorted(directory.iterdir()):
                if path.suffix == ".mat" or path.name == "list.txt":
                    yield path.name, path.read_bytes()
            return
        try:
            with tarfile.open(self.path(self.spec.files[0]), "r:gz") as archive:
                for member in archive:
                    name = pathlib.PurePosixPath(member.name)
                    if name.parent.name == "cars" and (
                        name.suffix == ".mat" or name.name == "list.txt"
                    ):
                        yield name.name, archive.extractfile(member).read()
        except (tarfile.TarError, OSError, EOFError) as e:
            raise UserError(f"{self.path(self.spec.files[0])}: unreadable archive ({e})") from None

    def _images(self) -> np.ndarray:
        """uint8 `[objects, azimuths, elevations, 64, 64, 3]`."""
        meshes, order = {}, None
        for name, data in self._files():
            if name == "list.txt":
                order = data.decode().split()
            else:
                meshes[name.removesuffix(".mat")] = self._mesh(name, data)
        order = [name for name in order if name in meshes] if order else sorted(meshes)
        if len(order) != self.grid[2]:
            raise UserError(f"{self.manual_dir}: {len(order)} car meshes, expected {self.grid[2]}")
        return np.asarray([meshes[name] for name in order], np.uint8)

    def read(self, positions_N):
        images = self._images()
        for elevation, azimuth, car in unravel(positions_N, self.grid):
            yield images[car, azimuth, elevation], np.float32([elevation, azimuth, car])


class NvlabsSource(Source):
    """An extracted `*_down128/` directory: `images/%06d.png` RGB 128x128 numbered by the
    row-major flat index, and float labels `[N, K]` in [0, 1] (stored as values; no published
    checksum). Images are resized to 64 with Pillow's antialiased bicubic (QLAE: TF bicubic)."""

    LABELS: ClassVar[str]

    def _dir(self) -> pathlib.Path:
        return self.path(self.spec.files[0])

    def missing_files(self):
        wanted = (self.LABELS, "images/")
        return [f"{self.spec.files[0]}{n}" for n in wanted if not (self._dir() / n).exists()]

    def _labels(self) -> np.ndarray:
        path = self._dir() / self.LABELS
        try:
            labels = np.load(path)
        except (OSError, ValueError) as e:
            raise UserError(f"{path}: not a numpy array file ({e})") from None
        k = len(self.grid)
        check_shape(path, "labels", *_sd(labels), (self.size, k), (np.float64, np.float32))
        return labels

    def _image(self, index: int) -> np.ndarray:
        path = self._dir() / "images" / f"{index:06d}.png"
        try:
            with Image.open(path) as image:
                if image.size != (128, 128) or image.mode != "RGB":
                    raise UserError(f"{path}: {image.mode} {image.size}, expected RGB (128, 128)")
                return _resize(np.asarray(image), 64, Image.BICUBIC)
        except OSError as e:
            raise UserError(f"{path}: unreadable image ({e})") from None

    def validate(self):
        self._labels()
        count = sum(1 for p in (self._dir() / "images").iterdir() if p.suffix == ".png")
        if count != self.size:
            raise UserError(f"{self._dir() / 'images'}: {count} PNG images, expected {self.size}")
        self._image(0)

    def read(self, positions_N):
        labels = self._labels()
        for p in positions_N:
            yield self._image(int(p)), labels[p]


class Falcor3D(NvlabsSource):
    spec = SPECS["falcor3d"]
    LABELS = "train-rec.labels"


class Isaac3D(NvlabsSource):
    spec = SPECS["isaac3d"]
    LABELS = "labels.npy"


class Procedural(Source):
    """Renders a registered procedural dataset over its grid, so that procedural and real data
    share one storage path. Nuisances (if any) are drawn once, with fixed keys, at build time."""

    def __init__(self, name: str, grid=None):
        self.dataset = DATASETS.get(name)()
        self.spec = Spec(
            name,
            tuple(self.dataset.factor_names),
            tuple(self.dataset.factor_sizes),
            tuple(self.dataset.observation_shape),
            files=(),
            home="rendered by disentax",
        )
        super().__init__(".", grid)

    def read(self, positions_N):
        import jax

        render = jax.jit(self.dataset.observations_from_factors)
        values = getattr(self.dataset, "factor_values", lambda f: f.astype(np.float32))
        for start in range(0, len(positions_N), CHUNK):
            factors = unravel(positions_N[start : start + CHUNK], self.grid).astype(np.int32)
            images = render(factors, jax.random.fold_in(jax.random.key(0), start))
            images = np.round(np.asarray(images) * 255).astype(np.uint8)
            yield from zip(images, np.asarray(values(factors)), strict=True)


SOURCES = {
    cls.spec.name: cls
    for cls in (DSprites, Shapes3D, SmallNorb, Mpi3DToy, Mpi3DRealistic, Mpi3DReal, Cars3D)
    + (Falcor3D, Isaac3D)
}


def make_source(name: str, manual_dir, grid=None) -> Source:
    """The source of a stored dataset (files in `manual_dir`) or of a registered procedural one."""
    if name in SOURCES:
        return SOURCES[name](manual_dir, grid)
    if name in DATASETS:
        return Procedural(name, grid)
    known = ", ".join(sorted({*SOURCES, *DATASETS.names()}))
    raise UserError(f"unknown dataset {name!r}; buildable: {known}")


class GridBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Writes one record per point of the kept grid: record i holds flat index i (row-major, last
    factor fastest) as {"image" uint8 `observation_shape` (zlib), "factors" int32 `[K]`,
    "values" float32 `[K]`, "index" int64 i}. `limit=N` keeps the first N values of each factor.

    The metadata (`metadata.json`) records name, factor_names, factor_sizes (kept grid),
    nuisances, binary (all pixels 0 or 255) and limit. Not used directly: see `prepare`.
    """

    VERSION = tfds.core.Version(VERSION)

    def __init__(self, *, source: Source, limit: int | None = None, **kwargs):
        self.source, self.limit = source, limit
        super().__init__(file_format="array_record", **kwargs)

    def _info(self) -> tfds.core.DatasetInfo:
        spec = self.source.spec
        k = len(spec.factor_sizes)
        return tfds.core.DatasetInfo(
            builder=self,
            description=f"{spec.name} for disentax: record i is flat factor index i (row-major)",
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Tensor(
                        shape=spec.observation_shape, dtype=np.uint8, encoding="zlib"
                    ),
                    "factors": tfds.features.Tensor(shape=(k,), dtype=np.int32),
                    "values": tfds.features.Tensor(shape=(k,), dtype=np.float32),
                    "index": tfds.features.Scalar(dtype=np.int64),
                }
            ),
            homepage=spec.home,
            disable_shuffling=True,
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager):
        del dl_manager
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        spec, grid = self.source.spec, self.source.grid
        kept = tuple(min(size, self.limit or size) for size in grid)
        factors = unravel(np.arange(int(np.prod(kept))), kept)
        binary = True
        for i, (image, values) in enumerate(self.source.read(factors @ strides(grid))):
            binary = binary and bool(np.all((image == 0) | (image == 255)))
            yield (
                i,
                {
                    "image": image,
                    "factors": factors[i].astype(np.int32),
                    "values": np.asarray(values, np.float32),
                    "index": i,
                },
            )
        self.info.metadata.update(
            name=spec.name,
            factor_names=list(spec.factor_names),
            factor_sizes=list(kept),
            nuisances=list(spec.nuisances),
            binary=binary,
            limit=self.limit,
        )


@functools.cache
def _builder_class(name: str) -> type[GridBuilder]:
    """A `GridBuilder` subclass whose tfds name is `disentax_<name>` (not registered in tfds)."""
    return types.new_class(
        f"{name}_builder",
        (GridBuilder,),
        {"skip_registration": True},
        lambda namespace: namespace.update(name=f"disentax_{name}"),
    )


def prepare(source: Source, data_dir, limit: int | None = None) -> pathlib.Path:
    """Writes `source` to `<data_dir>/disentax_<name>/<VERSION>`, replacing an earlier copy (a
    corrupted one included); returns that path. Never downloads."""
    path = pathlib.Path(data_dir).expanduser() / f"disentax_{source.spec.name}" / VERSION
    if path.exists():
        shutil.rmtree(path)
    builder = _builder_class(source.spec.name)(source=source, limit=limit, data_dir=data_dir)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(try_download_gcs=False)
    )
    return path
