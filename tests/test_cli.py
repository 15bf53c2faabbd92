"""The command line: each user mistake is one line on stderr and exit status 2, no traceback."""

import json
import signal
import subprocess
import sys
import time

import pytest

from disentax.cli import main


def error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("disentax: error:")]
    assert len(errors) == 1 and "Traceback" not in "\n".join(err), err
    return errors[0]


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--config.objective.betta=2"],
            "unknown config field 'objective.betta'; did you mean objective.beta",
        ),
        (["--config.batch_size=abc"], "config field 'batch_size' needs an int, got 'abc'"),
        (["--config.model=resnet"], "unknown model 'resnet'; known: dlib_conv_vae"),
        (
            ["--config.objective.name=vqvae"],
            "unknown objective 'vqvae'; known: ",
        ),
        (
            ["--config.dataset=mnist"],
            "unknown dataset 'mnist'; known: abstract_dsprites_procedural",
        ),
        (["--config.num_steps=-3"], "'num_steps' must be >= 0"),
        (["--config.data_sampling=random"], "'data_sampling' must be one of iid, epochs"),
        (["--config.eval.metrics=mig,dcj"], "unknown metric 'dcj'; known: "),
        (["--config.eval.every_steps=-1"], "'eval.every_steps' must be >= 0"),
        (
            ["--config.eval.representations=mean,bogus"],
            "'eval.representations' takes a comma-separated subset of mean, sampled",
        ),
        (["--config.eval.traversal_range=0"], "'eval.traversal_range' must be positive"),
        (
            ["--config.model=qlae_tiny"],
            "objective 'beta_vae' needs the model output 'mu', which model 'qlae_tiny'",
        ),
        (
            ["--config.objective.name=vq_vae", "--config.objective.beta=0"],
            "objective 'vq_vae': got an unexpected keyword argument 'beta'",
        ),
        (["--config", "nowhere.py"], "config 'nowhere.py' is neither a file nor a built-in config"),
        (["--batch_size=3"], "unrecognised argument '--batch_size=3'"),
        (["--config.seed"], "override '--config.seed' has no value"),
    ],
)
def test_bad_train_arguments(args, message, capsys, tmp_path):
    assert main(["train", "--config", "beta_vae:tiny", "--workdir", str(tmp_path), *args]) == 2
    assert message in error_line(capsys)
    assert not (tmp_path / "config.json").exists()


def test_help_config_shows_overridden_fields(capsys):
    assert (
        main(
            ["train", "--config", "beta_vae:tiny", "--config.objective.beta", "16", "--help-config"]
        )
        == 0
    )
    shown = json.loads(capsys.readouterr().out)
    assert shown["objective"]["beta"] == 16.0 and shown["model"] == "tiny_conv_vae"


def test_evaluate_without_a_run(capsys, tmp_path):
    assert main(["evaluate", "--workdir", str(tmp_path)]) == 2
    assert "holds no run (config.json is missing)" in error_line(capsys)


def test_evaluate_checks_metric_names_before_restoring(capsys, tmp_path):
    """The names are checked first: an unknown one is named even where no run could load."""
    assert main(["evaluate", "--workdir", str(tmp_path), "--metrics", "mig,nosuch"]) == 2
    assert "unknown metric 'nosuch'; known: " in error_line(capsys)


def test_train_then_refuse_other_config_then_evaluate(run_copy, capsys):
    _, workdir = run_copy
    args = ["train", "--config", "beta_vae:tiny", "--workdir", str(workdir), "--no-progress"]
    assert main([*args, "--config.objective.beta=2"]) == 2
    assert "holds a run of a different config (differs in objective.beta)" in error_line(capsys)
    assert main(["evaluate", "--workdir", str(workdir)]) == 0
    out = capsys.readouterr().out
    assert "eval/mig" in out and "eval/irs" in out and "step" in out
    assert main(["evaluate", "--workdir", str(workdir), "--metrics", "mig"]) == 0
    out = capsys.readouterr().out
    assert "eval/mig" in out and "eval/sampled/mig" in out and "eval/irs" not in out
    assert main(["evaluate", "--workdir", str(workdir), "--metrics", "mig,migg"]) == 2
    assert "unknown metric 'migg'; known: " in error_line(capsys)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--sweep", "gamma=1,2"], "unknown config field 'gamma'"),
        (["--sweep", "seed=4:4"], "sweep term 'seed=4:4' gives no value"),
        (["--sweep", "seed=a:b"], "sweep range 'a:b' of 'seed' needs integers"),
        (["--sweep", "beta"], "sweep term 'beta' is not of the form FIELD=VALUES"),
        (["--sweep", "seed=0:2 seed=3:5"], "sweep names 'seed' twice"),
        ([], "defines no get_sweep(arg); pass --sweep"),
        (["--sweep", "model=tiny_conv_vae,nosuch"], "unknown model 'nosuch'; known: "),
        (["--sweep", "seed=0:2 eval.num_bins=20,0"], "'eval.num_bins' must be positive"),
    ],
)
def test_bad_sweeps(args, message, capsys, tmp_path):
    """Refused before any member trains, also when the bad member is in a later group."""
    assert main(["sweep", "--config", "beta_vae:tiny", "--workdir", str(tmp_path), *args]) == 2
    assert message in error_line(capsys)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "signum,status,message",
    [
        (signal.SIGTERM, 143, "disentax: terminated (SIGTERM); the latest checkpoint is kept"),
        (signal.SIGINT, 130, "disentax: interrupted; the latest checkpoint is kept"),
    ],
)
def test_a_stopped_run_says_so_in_one_line_and_keeps_its_checkpoints(
    signum, status, message, tmp_path
):
    """A run that checkpoints every step (so the signal lands during a checkpoint write) stops
    with one line, no traceback, and leaves only finished checkpoints."""
    workdir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "disentax.cli", "train", "--config", "beta_vae:tiny"]
        + ["--workdir", str(workdir), "--no-progress", "--config.num_steps=100000"]
        + ["--config.checkpoint_every_steps=1", "--config.log_every_steps=1"],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while not list((workdir / "checkpoints").glob("[0-9]*[0-9]")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()[-2000:]
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == status, err[-2000:]
    assert err.strip().splitlines() == [f"{message}, rerun to resume"], err[-2000:]
    assert not list((workdir / "checkpoints").glob("*tmp*"))
