"""Be More Active! (P03) at reduced scale: the paper's three claims on a population of tiny β-VAEs
and β-TCVAEs trained here (two are not shown at this scale: strict xfails with the measured
numbers); the experiment's config and sweep."""

import math
import pathlib

import numpy as np
import pytest

from disentax import config as config_lib
from disentax.analysis import runs
from disentax.errors import UserError
from disentax.train.sweep import run_sweep

CONFIG = (
    pathlib.Path(__file__).resolve().parents[2] / "experiments" / "be_more_active" / "config.py"
)

# The reduced scale: the `small` config (tiny FC VAE, Adam 2e-3) at batch 32 for STEPS steps, one
# seed, β-VAE over the paper's β grid and β-TCVAE at two values; 1,000 analysis images and the
# single-fit downstream classifier (`cross_validate=False`): about 100 s of CPU in all (measured).
STEPS = 1000
MEMBERS = [("beta_vae", b) for b in (1, 2, 4, 8, 16)] + [("beta_tc_vae", b) for b in (4, 16)]


def load(arg):
    return config_lib.load_config(f"{CONFIG}:{arg}")


@pytest.fixture(scope="module")
def population_rows(tmp_path_factory):
    configs = []
    for model, beta in MEMBERS:
        c = load(f"model={model},beta={beta},small")
        c.num_steps = c.checkpoint_every_steps = c.log_every_steps = STEPS
        c.batch_size = 32
        c.eval.metrics = "unsupervised"
        c.eval.num_samples = c.eval.batch_size = 256
        configs.append(c)
    workdir = tmp_path_factory.mktemp("be_more_active")
    run_sweep(configs, workdir, strategy="vmap", progress=False)
    rows = runs.analyse_workdir(workdir, num_samples=1000, num_test=500, cross_validate=False)
    assert (workdir / runs.RESULTS_FILE).exists()
    assert len(rows) == len(MEMBERS) and all(r["alive"] for r in rows)
    return rows


def test_gap_grows_with_the_number_of_passive_variables(population_rows):
    summary = runs.summarise(population_rows)
    passive = [r["num_passive"] for r in population_rows]
    assert min(passive) < max(passive), passive  # the population spans passive counts
    assert summary["spearman"] >= 0.6, summary


@pytest.mark.xfail(
    strict=True,
    reason="not shown at this scale (measured: median gap 10.4 nats -> 6.9 after truncation): "
    "the tiny models' non-passive variables are mostly mixed (E[sigma^2] between 0.1 and 0.9), "
    "as correlated in the mean codes as passive ones; see experiments/be_more_active/README.md",
)
def test_truncation_closes_the_gap(population_rows):
    summary = runs.summarise(population_rows)
    assert summary["num_truncated"] >= 3, summary
    assert summary["tc_gap_median"] > 1.0, summary
    assert abs(summary["tc_gap_truncated_median"]) < 0.1 * summary["tc_gap_median"], summary


@pytest.mark.xfail(
    strict=True,
    reason="not shown at this scale (measured: mean test accuracy drops by up to 0.09 for "
    "members left with 1 active variable): the passive variables' means still carry factor "
    "information here; see experiments/be_more_active/README.md",
)
def test_truncation_keeps_downstream_accuracy(population_rows):
    summary = runs.summarise(population_rows)
    assert summary["downstream_change_min"] >= -0.02, summary


def test_mean_is_more_correlated_than_sampled(population_rows):
    for r in population_rows:
        assert r["tc/mean"] >= r["tc/sampled"] and r["mi/mean"] >= r["mi/sampled"], r
        assert r["num_passive"] + r["num_mixed"] + r["num_active"] == 10
        assert len(r["passive_variables"]) == r["num_passive"]
        if r["num_passive"] == 10:
            assert math.isnan(r["tc_gap_truncated"])


def test_sweep_is_both_models_over_the_beta_grid():
    module = _module()
    runs_ = [dict(i.split("=") for i in a.split(",") if "=" in i) for a in module.get_sweep()]
    assert len(runs_) == 2 * 5 * 50
    got = {(r["model"], float(r["beta"]), int(r["seed"])) for r in runs_}
    assert got == {
        (m, b, s) for m in ("beta_vae", "beta_tc_vae") for b in (1, 2, 4, 8, 16) for s in range(50)
    }
    small = module.get_sweep("small")
    assert len(small) == 30 and all(a.endswith(",small") for a in small)
    assert len(module.get_sweep("seeds=2,smoke")) == 20
    c = module.get_config("model=beta_tc_vae,beta=8,seed=3")
    assert (c.objective.name, c.objective.beta, c.seed) == ("beta_tc_vae", 8.0, 3)
    assert (c.model, c.num_latents, c.batch_size, c.num_steps) == ("dlib_conv_vae", 10, 64, 300_000)
    assert c.optimizer.learning_rate == 1e-4
    assert np.isclose(c.optimizer.eps, 1e-8)


@pytest.mark.parametrize(
    "arg, match",
    [
        ("model=factor_vae", "known"),
        ("gamma=3", "allowed"),
        ("fast", "smoke"),
        ("small,smoke", "one of"),
    ],
)
def test_bad_arguments_are_one_line_user_errors(arg, match):
    with pytest.raises(UserError, match=match) as info:
        load(arg)
    assert "\n" not in str(info.value)


def _module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_be_more_active_config", CONFIG)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
