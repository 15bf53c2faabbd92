import json
import logging
import shutil
import struct

import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from conftest import tiny_config
from PIL import Image

from disentax.errors import UserError
from disentax.objectives import OBJECTIVES, beta_vae
from disentax.train import TrainingDiverged, evaluate_workdir, train


def test_run_leaves_every_artifact(finished_run):
    config, workdir, metrics = finished_run
    assert sorted(p.name for p in (workdir / "checkpoints").iterdir()) == ["12", "4", "8"]
    assert json.loads((workdir / "config.json").read_text())["model"] == config.model
    assert list(workdir.glob("events.out.tfevents.*"))
    saved = json.loads((workdir / "metrics.json").read_text())
    assert saved == pytest.approx(metrics)
    for key in (
        "eval/modularity",
        "eval/irs",
        "eval/unsupervised/gaussian_total_correlation",
        "eval/sampled/mig",
        "eval/sampled/irs",
        "train/loss",
        "train/loss/kl",
        "train/loss/reconstruction",
        "eval/loss",
        "eval/mig",
    ):
        assert np.isfinite(saved[key])
    assert saved["step"] == 12 and 0.0 <= saved["eval/mig"] <= 1.0
    recon = Image.open(workdir / "figures" / "reconstructions.png")
    traversal = Image.open(workdir / "figures" / "traversals.png")
    # 2 rows x 8 images and 10 latents x 9 steps of 64 px, 2 px padding, upscaled 2x.
    assert recon.size == (2 * (8 * 66 + 2), 2 * (2 * 66 + 2))
    assert traversal.size == (2 * (9 * 66 + 2), 2 * (10 * 66 + 2))


def read_scalars(path):
    """{tag: [steps]} from a TFRecord-framed event file (length, crc, Event proto, crc)."""
    from tensorboardX.proto.event_pb2 import Event

    raw, scalars, offset = path.read_bytes(), {}, 0
    while offset < len(raw):
        (length,) = struct.unpack("<Q", raw[offset : offset + 8])
        event = Event.FromString(raw[offset + 12 : offset + 12 + length])
        offset += 16 + length
        for value in event.summary.value:
            scalars.setdefault(value.tag, []).append(event.step)
    return scalars


def test_events_hold_hierarchical_scalars(finished_run):
    _, workdir, _ = finished_run
    (events,) = workdir.glob("events.out.tfevents.*")
    scalars = read_scalars(events)
    assert {"train/loss", "train/loss/kl", "perf/steps_per_s"} <= set(scalars)
    assert scalars["train/loss"] == [4, 8, 12]


def test_finished_run_is_not_retrained_and_evaluate_reproduces(run_copy):
    config, workdir = run_copy
    before = json.loads((workdir / "metrics.json").read_text())
    assert train(config, workdir, progress=False) == pytest.approx(before)
    assert evaluate_workdir(workdir) == pytest.approx(before)


def test_extending_num_steps_resumes_and_periodic_evals_change_no_number(run_copy, tmp_path):
    _, workdir = run_copy
    evaluated = tmp_path / "evaluated"
    shutil.copytree(workdir, evaluated)
    plain = train(tiny_config(num_steps=16), workdir, progress=False)
    config = tiny_config(num_steps=16, **{"eval.every_steps": 2, "eval.metrics": "mig,irs"})
    with_evals = train(config, evaluated, progress=False)
    assert plain["step"] == with_evals["step"] == 16
    for key in ("train/loss", "eval/loss", "eval/mig", "eval/sampled/mig"):
        assert with_evals[key] == plain[key]
    scalars = {}
    for events in evaluated.glob("events.out.tfevents.*"):
        for tag, steps in read_scalars(events).items():
            scalars.setdefault(tag, []).extend(steps)
    # 12: the first run's final evaluation; 14: periodic; 16: final.
    assert sorted(scalars["eval/mig"]) == sorted(scalars["eval/sampled/irs"]) == [12, 14, 16]


def test_different_config_refused_then_archived_with_force(run_copy):
    _, workdir = run_copy
    other = tiny_config(**{"objective.beta": 8.0})
    with pytest.raises(UserError, match="different config .*objective.beta.*--force"):
        train(other, workdir, progress=False)
    train(other, workdir, force=True, progress=False)
    archived = workdir / "archive" / "0"
    assert (archived / "checkpoints" / "12").is_dir() and (archived / "metrics.json").exists()
    assert json.loads((workdir / "config.json").read_text())["objective"]["beta"] == 8.0


def test_corrupted_latest_checkpoint_falls_back_with_warning(run_copy, caplog):
    _, workdir = run_copy
    for f in (workdir / "checkpoints" / "12").rglob("*"):
        if f.is_file():
            f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 2])
    with caplog.at_level(logging.WARNING):
        metrics = evaluate_workdir(workdir)
    assert metrics["step"] == 8
    assert "step 12 is unreadable" in caplog.text
    assert (workdir / "corrupted_checkpoints" / "12").is_dir()


def test_nan_stops_naming_step_and_term_and_keeps_last_good(tmp_path):
    def nan_at_step_6(params, batch, rng, *, model, step):
        loss, metrics = beta_vae(params, batch, rng, model=model, step=step)
        kl = metrics["loss/kl"] * jnp.where(step >= 5, jnp.inf, 1.0)
        return loss + kl, {**metrics, "loss/kl": kl}

    if "test_nan_at_step_6" not in OBJECTIVES:
        OBJECTIVES.register("test_nan_at_step_6", nan_at_step_6)
    config = tiny_config(**{"objective.name": "test_nan_at_step_6"})
    del config.objective.beta
    with pytest.raises(
        TrainingDiverged, match=r"step 6:.*loss/kl=inf.*last good checkpoint: step 4"
    ):
        train(config, tmp_path / "run", progress=False)


def test_bad_objective_hyperparameter_lists_allowed(tmp_path):
    config = tiny_config()
    config.objective.gamma = 1.0
    with pytest.raises(UserError, match="hyperparameters are beta"):
        train(config, tmp_path / "run", progress=False)


def test_epoch_sampling_trains_through_the_host_pipeline(tmp_path):
    config = tiny_config(data_sampling="epochs", num_steps=4)
    metrics = train(config, tmp_path / "run", progress=False)
    assert metrics["step"] == 4 and np.isfinite(metrics["train/loss"])


def test_an_objective_that_does_not_fit_the_model_is_one_line(tmp_path):
    config = tiny_config()
    config.objective = ml_collections.ConfigDict({"name": "qlae"})
    with pytest.raises(UserError, match="objective 'qlae' does not fit model 'tiny_conv_vae'"):
        train(config, tmp_path / "run", progress=False)
    config = tiny_config(model="qlae_tiny")
    with pytest.raises(UserError, match="needs the model output 'mu', which model 'qlae_tiny'"):
        train(config, tmp_path / "run", progress=False)
