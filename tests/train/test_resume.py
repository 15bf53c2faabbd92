"""A run SIGKILLed at any step, even during an async checkpoint write, resumes bitwise exactly."""

import logging
import pathlib
import re
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest
from conftest import tiny_config

from disentax.train import build, train
from disentax.train.checkpoint import Checkpointer
from disentax.train.loop import CHECKPOINT_DIR

KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    from disentax import config as config_lib
    from disentax.train import train

    def kill_at(step):
        def hook(done):
            if done == step:  # after the step and, on checkpoint steps, right after save()
                os.kill(os.getpid(), signal.SIGKILL)
        return hook

    config = config_lib.load_config("beta_vae:tiny")
    train(config, sys.argv[1], hooks=[kill_at(int(sys.argv[2]))], progress=False)
""")


def final_state(workdir: pathlib.Path):
    run = build(tiny_config())
    checkpointer = Checkpointer(workdir / CHECKPOINT_DIR, max_to_keep=3)
    try:
        return checkpointer.restore_latest(run.init_state())
    finally:
        checkpointer.close()


@pytest.fixture(scope="module")
def uninterrupted(finished_run):
    _, workdir, _ = finished_run
    return final_state(workdir)


# tiny: 12 steps, checkpoint every 4 (async). 4 and 8 are killed right after save() returns,
# while the write is in flight; 3 and 10 between checkpoints.
@pytest.mark.parametrize("kill_step", [3, 4, 10])
def test_sigkill_then_resume_is_bitwise_exact(kill_step, uninterrupted, tmp_path, caplog, capfd):
    workdir = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(workdir), str(kill_step)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert not (workdir / "metrics.json").exists()
    if kill_step == 4:  # the kill landed while the async write of checkpoint 4 was in flight
        assert (workdir / CHECKPOINT_DIR / "4.orbax-checkpoint-tmp").exists()
    capfd.readouterr()
    with caplog.at_level(logging.WARNING):
        train(tiny_config(), workdir, progress=False)
    assert "took over the lock of a training" in caplog.text  # the killed run's, stale
    said = re.search(rf"resuming from step (\d+) of 12 in {workdir}\n", capfd.readouterr().err)
    if kill_step == 10:  # from checkpoint 8, or 4 if 8's write had not finished
        assert said and said[1] in ("4", "8")
    else:  # no finished checkpoint: a fresh start says nothing
        assert said is None
    resumed = final_state(workdir)
    assert int(resumed.step) == 12
    for got, want in zip(jax.tree.leaves(resumed), jax.tree.leaves(uninterrupted), strict=True):
        np.testing.assert_array_equal(got, want)
