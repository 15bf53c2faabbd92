"""Shared fixtures: a tiny config and one tiny finished run that tests copy rather than retrain
(the session's settings, for every test folder, are the root `conftest.py`'s)."""

import json
import os
import shutil
import subprocess
import sys

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


def run_on_devices(script: str, num_devices: int, *args: str, timeout: int = 900):
    """Runs `script` (`python -c`, with `args`) in a fresh process with `num_devices` simulated
    CPU devices: (the JSON of its last stdout line, its stderr); a failed script fails the test
    with its stderr's tail."""
    env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={num_devices}"}
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


@pytest.fixture(scope="session")
def on_devices():
    """`run_on_devices`: a script run on simulated CPU devices (multi-device tests)."""
    return run_on_devices
