"""`disentax data list | build | calibrate`, the registered stored datasets, and calibration."""

import socket
import time

import numpy as np
import pytest

from disentax.cli import main
from disentax.data import builders, catalog, get
from disentax.data.calibrate import calibrate, iou
from disentax.data.dsprites import ProceduralDSprites
from disentax.errors import UserError


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("tests must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture(scope="module")
def fake_npz(tmp_path_factory):
    """A dSprites-format npz of 60 random grid points rendered by `dsprites_procedural`."""
    rng = np.random.default_rng(0)
    factors = np.column_stack([rng.integers(0, n, 60) for n in (3, 6, 40, 32, 32)])
    imgs = np.asarray(ProceduralDSprites().observations_from_factors(factors))[..., 0]
    path = tmp_path_factory.mktemp("npz") / "dsprites.npz"
    classes = np.column_stack([np.zeros(60, np.int64), factors])
    np.savez_compressed(path, imgs=imgs.astype(np.uint8), latents_classes=classes)
    return path, imgs.astype(np.uint8), classes


def test_stored_datasets_are_registered_and_fail_fast_when_unprepared(tmp_path):
    for name in catalog.SPECS:
        start = time.perf_counter()
        with pytest.raises(UserError, match=f"{name} is not prepared in {tmp_path}: get "):
            get(name, data_dir=tmp_path)
        assert time.perf_counter() - start < 5


def test_list_build_list(tmp_path, capsys):
    assert main(["data", "list", "--data-dir", str(tmp_path)]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()}
    assert rows["dsprites_procedural"] == ["procedural", "3x6x40x32x32", "64x64x1", "not", "needed"]
    assert rows["smallnorb"] == ["stored", "5x9x18x6", "+instance", "64x64x1", "no"]
    assert (
        main(["data", "build", "dsprites_procedural", "--limit", "2", "--data-dir", str(tmp_path)])
        == 0
    )
    path = catalog.prepared_path("dsprites_procedural", tmp_path)
    assert f"prepared dsprites_procedural in {path}" in capsys.readouterr().out
    assert main(["data", "list", "--data-dir", str(tmp_path)]) == 0
    row = next(
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("dsprites_procedural")
    )
    assert "2x2x2x2x2" in row and f"yes (limit 2)  {path}" in row
    rows = {row["name"]: row for row in catalog.list_datasets(tmp_path)}
    assert rows["dsprites_procedural"]["prepared"] and not rows["dsprites"]["prepared"]
    assert rows["mpi3d_real"]["factor_sizes"] == (6, 6, 2, 3, 3, 40, 40)


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("disentax: error: "), err
    return err[0]


def test_build_errors_are_one_line(tmp_path, capsys):
    start = time.perf_counter()
    assert main(["data", "build", "dsprites", "--data-dir", str(tmp_path)]) == 2
    assert time.perf_counter() - start < 5
    assert "get dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz from" in error_line(capsys)
    assert main(["data", "build", "mnist", "--data-dir", str(tmp_path)]) == 2
    assert "unknown dataset 'mnist'; buildable: " in error_line(capsys)
    assert main(["data", "list", "--verbose"]) == 2
    assert "unrecognised arguments for data: --verbose" in error_line(capsys)


def test_calibrate_against_our_own_renders_is_exact(fake_npz):
    path, _, classes = fake_npz
    report = calibrate(path)
    assert report["num"] == 60 and report["mean_iou"] == report["min_iou"] == 1.0
    assert report["exact_match_rate"] == 1.0
    assert set(report["per_shape"]) == {("square", "ellipse", "heart")[k] for k in classes[:, 1]}
    assert calibrate(path, num=10)["num"] == 10


def test_calibrate_sees_perturbed_images(fake_npz, tmp_path):
    path, imgs, classes = fake_npz
    shifted = np.roll(imgs, 2, axis=2)
    np.savez(tmp_path / "shifted.npz", imgs=shifted, latents_classes=classes)
    report = calibrate(tmp_path / "shifted.npz")
    assert report["mean_iou"] < 1 and report["exact_match_rate"] < 1
    expected = iou(imgs.reshape(60, -1), shifted.reshape(60, -1))
    np.testing.assert_allclose(report["mean_iou"], expected.mean())
    assert iou(np.zeros((1, 4)), np.zeros((1, 4)))[0] == 1.0


def test_calibrate_command(fake_npz, tmp_path, capsys):
    assert main(["data", "calibrate", "--npz", str(fake_npz[0]), "--num", "20"]) == 0
    out = capsys.readouterr().out
    assert "images compared   20" in out and "mean_iou          1.0000" in out
    np.savez(
        tmp_path / "bad.npz", imgs=np.zeros((3, 32, 32), np.uint8), latents_classes=np.zeros((3, 6))
    )
    assert main(["data", "calibrate", "--npz", str(tmp_path / "bad.npz")]) == 2
    assert "imgs is uint8 (3, 32, 32), expected uint8 (3, 64, 64)" in error_line(capsys)
    assert main(["data", "calibrate", "--npz", str(tmp_path / "none.npz")]) == 2
    assert "none.npz: no such file" in error_line(capsys)


def test_npz_rows_streams_rows_in_order(tmp_path):
    array = np.arange(5000 * 3, dtype=np.int32).reshape(5000, 3)
    np.savez_compressed(tmp_path / "a.npz", a=array)
    positions = np.array([0, 1, 2047, 2048, 4999])
    rows = np.stack(list(builders.npz_rows(tmp_path / "a.npz", "a", positions)))
    np.testing.assert_array_equal(rows, array[positions])
