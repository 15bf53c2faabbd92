"""Shared fixtures: a tiny config and one tiny finished run that tests copy rather than retrain."""

import shutil

import pytest

from disentax import config as config_lib
from disentax.train import train


def tiny_config(**overrides):
    config = config_lib.load_config("beta_vae:tiny")
    config_lib.apply_overrides(config, [f"{k}={v}" for k, v in overrides.items()])
    return config


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    """(config, workdir, metrics) of a tiny run trained once per session; copy before mutating."""
    workdir = tmp_path_factory.mktemp("finished") / "run"
    config = tiny_config()
    metrics = train(config, workdir, progress=False)
    return config, workdir, metrics


@pytest.fixture
def run_copy(finished_run, tmp_path):
    config, workdir, _ = finished_run
    copy = tmp_path / "run"
    shutil.copytree(workdir, copy)
    return config, copy
