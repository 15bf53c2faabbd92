"""A workdir has one owner (a lock refuses a second command at once, a dead owner's lock is taken
over), belongs to one config (stored with each checkpoint), and bad workdir paths are one line."""

import errno
import json
import logging
import os
import socket
import subprocess
import sys
import textwrap

import pytest
from conftest import tiny_config

from disentax import config as config_lib
from disentax.errors import UserError
from disentax.train import build, evaluate_workdir, restore_run, train
from disentax.train.checkpoint import Checkpointer
from disentax.train.lock import LOCK_FILE, workdir_lock
from disentax.train.loop import CHECKPOINT_DIR, CONFIG_FILE
from disentax.train.population import Population
from disentax.train.sweep import MEMBERS_FILE, run_sweep, train_population

HOLD_LOCK = textwrap.dedent("""
    import sys, time
    from disentax.train.lock import workdir_lock
    with workdir_lock(sys.argv[1], "a training"):
        print("held", flush=True)
        time.sleep(300)
""")


def snapshot(directory):
    """Every path under `directory` with its size and modification time."""
    return {
        str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in directory.rglob("*")
    }


def lock_of(pid, host=None, command="a training"):
    """A lock file's text naming `pid` on `host` (default: this host)."""
    host = host or socket.gethostname()
    return json.dumps(
        {"pid": pid, "host": host, "since": "2024-01-01 12:00:00", "command": command}
    )


def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def live_pid():
    """The pid of a live process other than this one (a `sleep`)."""
    sleeper = subprocess.Popen(["sleep", "300"])
    yield sleeper.pid
    sleeper.kill()
    sleeper.wait()


def test_a_workdir_another_process_trains_in_is_refused_untouched(tmp_path, caplog):
    workdir = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(workdir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        before = snapshot(workdir)
        message = (
            rf"{workdir} is in use by a training \(pid {holder.pid} on host "
            rf"{socket.gethostname()}, since [-0-9: ]+\); wait for it to end or use another "
            "--workdir$"
        )
        with pytest.raises(UserError, match=message):
            train(tiny_config(), workdir, progress=False)
        with pytest.raises(UserError, match=message):
            run_sweep([tiny_config()], workdir, progress=False)
        assert snapshot(workdir) == before == {LOCK_FILE: before[LOCK_FILE]}
    finally:
        holder.kill()  # SIGKILL: its lock stays behind, stale
        holder.wait()
    with caplog.at_level(logging.WARNING), workdir_lock(workdir, "a test"):
        assert json.loads((workdir / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert f"took over the lock of a training (pid {holder.pid}" in caplog.text
    assert not (workdir / LOCK_FILE).exists()


def test_evaluate_refuses_a_workdir_in_use_and_the_cli_says_so_in_one_line(run_copy, live_pid):
    _, workdir = run_copy
    pid = live_pid
    (workdir / LOCK_FILE).write_text(lock_of(pid))
    before = snapshot(workdir)
    with pytest.raises(UserError, match=rf"in use by a training \(pid {pid} on host"):
        evaluate_workdir(workdir)
    proc = subprocess.run(
        ["disentax", "evaluate", "--workdir", str(workdir)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"disentax: error: {workdir} is in use by a training (pid {pid} on host "
        f"{socket.gethostname()}, since 2024-01-01 12:00:00); wait for it to end or use "
        "another --workdir"
    ]
    assert snapshot(workdir) == before


def test_lock_nests_is_released_on_interrupt_and_other_hosts_do_not_take_it(tmp_path, monkeypatch):
    workdir = tmp_path / "run"
    lock = workdir / LOCK_FILE
    with pytest.raises(KeyboardInterrupt), workdir_lock(workdir, "a sweep"):
        with workdir_lock(workdir, "a training"):  # a sweep's population: nested
            pass
        assert json.loads(lock.read_text())["command"] == "a sweep"
        raise KeyboardInterrupt
    assert not lock.exists()
    lock.write_text(lock_of(dead_pid(), host="elsewhere"))  # another host's pid: unknowable
    refused = f"on host elsewhere.*if that run is gone, remove {lock}$"
    with pytest.raises(UserError, match=refused), workdir_lock(workdir, "a training"):
        pass
    monkeypatch.setattr("jax.process_index", lambda: 1)  # host 1 of the run host 0 locked
    with workdir_lock(workdir, "a training"):
        pass
    assert lock.exists()


def test_bad_workdir_paths_are_one_line_errors(run_copy, tmp_path, monkeypatch):
    _, finished = run_copy
    a_file = tmp_path / "file"
    a_file.write_text("")
    inside = rf"workdir '{a_file / 'sub'}' is inside '{a_file}', which is a file; name a directory"
    with pytest.raises(UserError, match=inside):
        train(tiny_config(), a_file / "sub", progress=False)
    with pytest.raises(UserError, match=inside):
        run_sweep([tiny_config()], a_file / "sub", progress=False)
    with pytest.raises(UserError, match=inside):
        evaluate_workdir(a_file / "sub")
    with pytest.raises(UserError, match=rf"workdir '{a_file}' is a file; name a directory"):
        train(tiny_config(), a_file, progress=False)
    proc = subprocess.run(
        ["disentax", "train", "--config", "beta_vae:tiny", "--workdir", str(a_file / "sub")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and proc.stderr.splitlines() == [f"disentax: error: {inside}"]
    if os.geteuid() == 0:  # root writes into read-only directories: the denial is simulated
        real_open = os.open

        def denied(path, *args, **kwargs):
            if str(path).startswith(str(finished)):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", denied)
    else:
        finished.chmod(0o555)
    before = snapshot(finished)
    unwritable = (
        rf"cannot write in workdir '{finished}' \(Permission denied: {finished / LOCK_FILE}\)"
    )
    with pytest.raises(UserError, match=unwritable + "; a training writes there"):
        train(tiny_config(), finished, progress=False)
    with pytest.raises(UserError, match=unwritable + "; a sweep writes there"):
        run_sweep([tiny_config()], finished, progress=False)
    with pytest.raises(UserError, match=unwritable + "; an evaluation writes there"):
        evaluate_workdir(finished)
    assert snapshot(finished) == before
    finished.chmod(0o755)


def test_without_config_json_the_checkpoints_config_refuses_another_run(run_copy):
    """The β = 4 run's checkpoints store its config: β = 8 is refused as a differing config.json
    is, nothing touched; --force archives the old run."""
    _, workdir = run_copy
    (workdir / CONFIG_FILE).rename(workdir.parent / "saved_config.json")
    before = snapshot(workdir)
    other = tiny_config(
        num_steps=4,
        **{"objective.beta": 8.0, "eval.metrics": "mig", "eval.representations": "mean"},
    )
    with pytest.raises(UserError, match=r"different config \(differs in objective.beta\); pass "):
        train(other, workdir, progress=False)
    assert snapshot(workdir) == before
    assert train(other, workdir, force=True, progress=False)["step"] == 4
    assert (workdir / "archive" / "0" / CHECKPOINT_DIR / "12").is_dir()
    assert json.loads((workdir / CONFIG_FILE).read_text())["objective"]["beta"] == 8.0


def test_evaluating_checkpoints_of_another_config_than_config_json_is_refused(run_copy):
    _, workdir = run_copy
    config = json.loads((workdir / CONFIG_FILE).read_text())
    config["objective"]["beta"] = 8.0
    (workdir / CONFIG_FILE).write_text(json.dumps(config))
    before = snapshot(workdir)
    with pytest.raises(
        UserError,
        match=rf"checkpoint {workdir.absolute() / CHECKPOINT_DIR / '12'} was saved by a run of "
        r"another config \(differs in objective.beta\); move it aside or use another --workdir",
    ):
        restore_run(workdir)
    assert snapshot(workdir) == before


def save_unrecorded(directory, state, step=4):
    """A checkpoint as written before configs were stored with checkpoints: the state alone."""
    checkpointer = Checkpointer(directory, max_to_keep=3, async_save=False)
    try:
        checkpointer.save(step, state)
    finally:
        checkpointer.close()


def test_checkpoints_without_a_stored_config(tmp_path):
    """Back-compat: such a checkpoint restores where config.json matches; one of other shapes
    (10 latents, here 5) is another run, refused with nothing moved, not called corrupted."""
    workdir = tmp_path / "run"
    config = tiny_config()
    state = build(config).init_state()
    save_unrecorded(workdir / CHECKPOINT_DIR, state)
    (workdir / CONFIG_FILE).write_text(config_lib.to_json(config))
    _, restored = restore_run(workdir)
    assert int(restored.step) == 0 and sorted(os.listdir(workdir / CHECKPOINT_DIR)) == ["4"]
    (workdir / CONFIG_FILE).unlink()
    before = snapshot(workdir)
    with pytest.raises(
        UserError,
        match=r"different config \(differs in the saved state's array shapes \(15 differ: "
        r"params.decoder.d1.kernel saved \(10, 16\) float32, here \(5, 16\) float32",
    ):
        train(tiny_config(num_latents=5), workdir, progress=False)
    assert snapshot(workdir) == before
    checkpointer = Checkpointer(workdir / CHECKPOINT_DIR, max_to_keep=3)
    try:
        with pytest.raises(UserError, match="was saved by a run of another config"):
            checkpointer.restore_latest(build(tiny_config(num_latents=5)).init_state())
    finally:
        checkpointer.close()
    assert snapshot(workdir) == before and not (workdir / "corrupted_checkpoints").exists()


def test_a_population_is_refused_by_its_checkpoints_and_says_it_resumes(tmp_path, capfd):
    def members(*betas, steps=2):
        return [
            tiny_config(
                seed=s,
                num_steps=steps,
                **{"objective.beta": b, "eval.metrics": "mig", "eval.representations": "mean"},
            )
            for s, b in enumerate(betas)
        ]

    workdir = tmp_path / "population"
    train_population(members(1.0, 4.0), workdir, progress=False)
    train_population(members(1.0, 4.0), workdir, progress=False)
    assert f"resuming from step 2 of 2 in {workdir}" in capfd.readouterr().err
    (workdir / MEMBERS_FILE).unlink()
    before = snapshot(workdir)
    with pytest.raises(UserError, match=r"holds another population \(differs in objective.beta\)"):
        train_population(members(1.0, 8.0), workdir, progress=False)
    with pytest.raises(UserError, match=r"differs in the number of members \(2 saved, 3 here\)"):
        train_population(members(1.0, 4.0, 8.0), workdir, progress=False)
    assert snapshot(workdir) == before
    unrecorded = tmp_path / "unrecorded"
    population = Population.create(members(1.0, 4.0), "loop")
    save_unrecorded(unrecorded / CHECKPOINT_DIR, population.init_state())
    with pytest.raises(UserError, match=r"another population \(differs in the saved state's"):
        train_population(members(1.0, 4.0, 8.0), unrecorded, progress=False)


def test_a_state_with_empty_optimizer_subtrees_is_recognised_as_its_own(tmp_path):
    """The QLAE optimizer (masked clipping, then AdamW) leaves a leafless optimizer state
    (`MaskedState(EmptyState())`) first in its tree: the saved state must still match its own
    layout and restore, not be quarantined as unreadable."""

    def config(**overrides):
        c = tiny_config(**{"optimizer.weight_decay": 0.1, **overrides})
        c.optimizer.clip = 1.0
        return c

    state = build(config()).init_state()
    checkpointer = Checkpointer(tmp_path / CHECKPOINT_DIR, max_to_keep=1, async_save=False)
    try:
        checkpointer.save(0, state)
        assert checkpointer.differences(0, state) == []
        assert checkpointer.restore_latest(state) is not None
    finally:
        checkpointer.close()
    assert not (tmp_path / "corrupted_checkpoints").exists()
    other = build(config(num_latents=3)).init_state()
    checkpointer = Checkpointer(tmp_path / CHECKPOINT_DIR, max_to_keep=1, read_only=True)
    try:
        assert "array shapes" in checkpointer.differences(0, other)[0]
    finally:
        checkpointer.close()
