"""The training core on tasks that are not image VAEs (`disentax.tasks`): SIGKILL and bitwise
resume, populations with NaN isolation, sweeps, reports, evaluation from a fresh process."""

import json
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from disentax import config as config_lib
from disentax.errors import UserError
from disentax.train import build, evaluate_workdir, restore_run, train
from disentax.train.population import Population
from disentax.train.sweep import restore_population, run_sweep
from disentax.viz.report import write_report

KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    from disentax import config as config_lib
    from disentax.train import train

    def kill_at(step):
        def hook(done):
            if done == step:  # after the step and, on checkpoint steps, right after save()
                os.kill(os.getpid(), signal.SIGKILL)
        return hook

    config = config_lib.load_config(sys.argv[1])
    train(config, sys.argv[2], hooks=[kill_at(int(sys.argv[3]))], progress=False)
""")


def assert_same_state(a, b):
    for got, want in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(got, want)


# tiny: 12 steps, checkpoint every 4 (async); killed at 6 (checkpoint 4 written) and at 8,
# right after save() returned, while its write may be in flight.
@pytest.mark.parametrize("spec, kill_step", [("regression_mlp:tiny", 6), ("diffusion_1d:tiny", 8)])
def test_sigkill_then_resume_is_bitwise_exact(spec, kill_step, tmp_path):
    config = config_lib.load_config(spec)
    uninterrupted = train(config, tmp_path / "whole", progress=False)
    workdir = tmp_path / "killed"
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, spec, str(workdir), str(kill_step)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert not (workdir / "metrics.json").exists()
    resumed = train(config, workdir, progress=False)
    assert_same_state(restore_run(workdir)[1], restore_run(tmp_path / "whole")[1])
    assert {k: v for k, v in resumed.items() if k.startswith("eval/")} == {
        k: v for k, v in uninterrupted.items() if k.startswith("eval/")
    }


EVALUATE_IN_A_FRESH_PROCESS = textwrap.dedent("""
    import json, sys
    from disentax.train import evaluate_workdir
    print(json.dumps(evaluate_workdir(sys.argv[1])))
""")


def test_a_saved_run_is_evaluated_in_a_fresh_process_and_reported(tmp_path):
    results = train(config_lib.load_config("regression_mlp:tiny"), tmp_path, progress=False)
    proc = subprocess.run(
        [sys.executable, "-c", EVALUATE_IN_A_FRESH_PROCESS, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    again = json.loads(proc.stdout.splitlines()[-1])
    assert again["eval/r2"] == results["eval/r2"]
    assert again["train/loss"] == results["train/loss"]  # the train means are kept
    md, _ = write_report(tmp_path)
    text = md.read_text()
    assert "| r2 |" in text and '"task": "regression"' in text
    with pytest.raises(UserError, match="has no selectable metrics"):
        evaluate_workdir(tmp_path, "mig")


def members(**lrs):
    configs = []
    for seed, lr in lrs.items():
        c = config_lib.load_config("regression_mlp:tiny")
        c.seed, c.optimizer.learning_rate = int(seed.removeprefix("s")), lr
        configs.append(c)
    return configs


# member 1's learning rate sends its loss to inf within a few steps
MEMBERS = members(s0=1e-3, s1=1e8, s2=3e-3)


@pytest.fixture(scope="module")
def alone(tmp_path_factory):
    """Members 0 and 2 trained alone: {m: (results, final state)}."""
    runs = {}
    for m in (0, 2):
        workdir = tmp_path_factory.mktemp(f"alone{m}")
        runs[m] = (train(MEMBERS[m], workdir, progress=False), restore_run(workdir)[1])
    return runs


@pytest.mark.parametrize("strategy", ["loop", "vmap"])
def test_a_population_isolates_a_diverging_member(strategy, alone, tmp_path):
    rows = run_sweep(MEMBERS, tmp_path, strategy=strategy, progress=False)
    assert [r["alive"] for r in rows] == [True, False, True]
    assert rows[1]["optimizer.learning_rate"] == 1e8
    population, pop = restore_population(tmp_path)
    for m, (results, state) in alone.items():  # the others end as if trained alone
        np.testing.assert_allclose(rows[m]["eval/r2"], results["eval/r2"], rtol=1e-5)
        for got, want in zip(
            jax.tree.leaves(population.member(pop, m).params),
            jax.tree.leaves(state.params),
            strict=True,
        ):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    frozen = population.member(pop, 1)  # at its last finite state
    assert 0 < int(frozen.step) < 12
    assert all(np.isfinite(x).all() for x in jax.tree.leaves(frozen.params))
    md, _ = write_report(tmp_path)
    assert "r2" in md.read_text()


def test_an_unknown_task_is_a_one_line_error():
    config = config_lib.load_config("regression_mlp:tiny")
    config.task = "no_such_task"
    with pytest.raises(UserError, match=r"no module 'disentax.tasks.no_such_task'.*regression"):
        build(config)
    config.task = "disentax.errors"
    with pytest.raises(UserError, match="module 'disentax.errors' defines no build"):
        build(config)


def test_a_population_varying_the_learning_rate_keeps_a_task_s_own_optimizer():
    # P51's task trains by plain gradient descent (its `Task.optimizer`), not the default Adam:
    # a member's update is -lr·g
    config = config_lib.load_config("experiments.p51_jepa_implicit_bias.config:smoke")
    configs = [config.copy_and_resolve_references() for _ in range(2)]
    configs[1].optimizer.learning_rate = 2 * config.optimizer.learning_rate
    population = Population.create(configs, "loop")
    assert population.hparams.keys() == {"optimizer.learning_rate"}
    tx = population.member_tx({"optimizer.learning_rate": 0.5})
    grads = {"w": np.arange(3.0)}
    updates, _ = tx.update(grads, tx.init(grads))
    np.testing.assert_allclose(updates["w"], -0.5 * grads["w"])
