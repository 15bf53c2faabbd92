"""The stored datasets by name: where they are prepared; listing, building and loading them (what
each one is: `specs`)."""

import functools
import json
import os
import pathlib

from disentax.data.base import DATASETS
from disentax.data.specs import SPECS, VERSION
from disentax.errors import UserError

DATA_DIR_ENV = "DISENTAX_DATA_DIR"


def default_data_dir() -> pathlib.Path:
    """`$DISENTAX_DATA_DIR`, else `~/tensorflow_datasets`."""
    return pathlib.Path(os.environ.get(DATA_DIR_ENV) or "~/tensorflow_datasets").expanduser()


def resolve_data_dir(data_dir) -> pathlib.Path:
    return pathlib.Path(data_dir).expanduser() if data_dir else default_data_dir()


def prepared_path(name: str, data_dir=None) -> pathlib.Path:
    """Where `name` is (or would be) prepared: `<data_dir>/disentax_<name>/<VERSION>`."""
    return resolve_data_dir(data_dir) / f"disentax_{name}" / VERSION


def default_manual_dir(name: str, data_dir=None) -> pathlib.Path:
    """Where `build` looks for the source files by default: `<data_dir>/downloads/manual/<name>`."""
    return resolve_data_dir(data_dir) / "downloads" / "manual" / name


def missing_message(name: str, data_dir=None, files=None, manual_dir=None) -> str:
    """One line: the files to obtain, their home, where to put them and the command to run."""
    data_dir = resolve_data_dir(data_dir)
    build = f"disentax data build {name} --data-dir {data_dir}"
    if name not in SPECS:
        return f"{name} has no stored copy in {data_dir}; run: {build}"
    spec, files = SPECS[name], files or SPECS[name].files
    them = "it" if len(files) == 1 else "them"
    where = (
        f"put {them} in {manual_dir} (given as --manual-dir)"
        if manual_dir
        else f"put {them} in {default_manual_dir(name, data_dir)} (or pass --manual-dir DIR)"
    )
    return (
        f"{name} is not prepared in {data_dir}: get {', '.join(files)} from {spec.home}, "
        f"{where}, then run: {build}" + (f" --manual-dir {manual_dir}" if manual_dir else "")
    )


def _metadata(path: pathlib.Path) -> dict | None:
    """The prepared dataset's metadata (grid, limit), or None when it is not prepared."""
    if not (path / "dataset_info.json").is_file():
        return None
    try:
        return json.loads((path / "metadata.json").read_text())
    except (OSError, ValueError):
        return {}


def _describe(name: str) -> tuple:
    """(kind, factor names, sizes, nuisances, observation shape) from the spec or the dataset."""
    if name in SPECS:
        spec = SPECS[name]
        return (
            "stored",
            spec.factor_names,
            spec.factor_sizes,
            spec.nuisances,
            spec.observation_shape,
        )
    try:
        dataset = DATASETS.get(name)()
    except (TypeError, UserError):  # a dataset that needs options: grid unknown
        return "procedural", (), (), (), None
    return "procedural", dataset.factor_names, dataset.factor_sizes, (), dataset.observation_shape


def list_datasets(data_dir=None) -> list[dict]:
    """One row per known dataset: name, kind (stored/procedural), factor_sizes (of the factors; the
    prepared grid when prepared), nuisances, observation_shape, prepared (bool), limit (None or N)
    and path (where it is, or would be, prepared)."""
    rows = []
    for name in sorted({*SPECS, *DATASETS.names()}):
        path = prepared_path(name, data_dir)
        meta = _metadata(path)
        kind, names, sizes, nuisances, shape = _describe(name)
        if meta and meta.get("factor_sizes"):
            names, sizes = meta["factor_names"], meta["factor_sizes"]
        grid = tuple(s for n, s in zip(names, sizes, strict=True) if n not in nuisances)
        rows.append(
            dict(
                name=name,
                kind=kind,
                factor_sizes=grid or None,
                nuisances=tuple(nuisances),
                observation_shape=tuple(shape) if shape else None,
                prepared=meta is not None,
                limit=(meta or {}).get("limit"),
                path=str(path),
            )
        )
    return rows


def build(name: str, data_dir=None, manual_dir=None, limit: int | None = None) -> pathlib.Path:
    """Prepares `name` under `data_dir` from the files in `manual_dir` (stored datasets) or by
    rendering (procedural ones), replacing any earlier copy; returns the prepared path.

    `limit=N` keeps the first N values of every factor: a complete, smaller grid for quick trials.
    Never downloads: missing files fail at once with a `missing_message`.
    """
    from disentax.data import builders

    if limit is not None and limit < 1:
        raise UserError(f"--limit must be a positive number of values per factor, got {limit}")
    data_dir = resolve_data_dir(data_dir)
    source = builders.make_source(
        name, pathlib.Path(manual_dir or default_manual_dir(name, data_dir)).expanduser()
    )
    missing = source.missing_files()
    if missing:
        raise UserError(missing_message(name, data_dir, missing, manual_dir))
    source.validate()
    return builders.prepare(source, data_dir, limit)


def load(name: str, data_dir=None):
    """The prepared dataset `name` as a `StoredDataset` (held in host memory); an unprepared one
    fails at once with a `missing_message` (never reaching tfds' download code)."""
    from disentax.data.stored import StoredDataset

    path = prepared_path(name, data_dir)
    if not path.is_dir():
        raise UserError(missing_message(name, data_dir))
    return StoredDataset(path)


for _name in SPECS:
    DATASETS.register(_name, functools.partial(load, _name))
