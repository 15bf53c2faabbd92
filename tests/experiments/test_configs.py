"""Every experiment's config (`experiments.<package>.config`) trains with `:smoke`; the
disentanglement_lib configs match."""

import importlib
import math
import pathlib

import pytest

from disentax import config as config_lib
from disentax.errors import UserError
from disentax.objectives import OBJECTIVES
from disentax.train import build, train

EXPERIMENTS = pathlib.Path(__file__).resolve().parents[2] / "experiments"
CONFIGS = sorted(f"experiments.{p.parent.name}.config" for p in EXPERIMENTS.glob("*/config.py"))
UNSUPERVISED = "experiments.dlib_unsupervised.config"
WEAK = "experiments.dlib_weakly_supervised.config"

# disentanglement_lib config/unsupervised_study_v1/sweep.py, transcribed: model -> (objective,
# fixed hyperparameters, swept hyperparameter, values).
DLIB_GRID = {
    "beta_vae": ("beta_vae", {}, "beta", [1, 2, 4, 6, 8, 16]),
    "annealed_vae": (
        "annealed_vae",
        {"gamma": 1000, "iteration_threshold": 100000},
        "c_max",
        [5, 10, 25, 50, 75, 100],
    ),
    "factor_vae": ("factor_vae", {}, "gamma", [10, 20, 30, 40, 50, 100]),
    "dip_vae_i": ("dip_vae_i", {"lambda_d_factor": 10}, "lambda_od", [1, 2, 5, 10, 20, 50]),
    "dip_vae_ii": ("dip_vae_ii", {"lambda_d_factor": 1}, "lambda_od", [1, 2, 5, 10, 20, 50]),
    "beta_tc_vae": ("beta_tc_vae", {}, "beta", [1, 2, 4, 6, 8, 10]),
}
DLIB_SEEDS = 50


def load(module: str, arg: str = ""):
    return config_lib.load_config(f"{module}:{arg}")


def test_the_dlib_configs_are_found():
    assert {UNSUPERVISED, WEAK} <= set(CONFIGS)


@pytest.mark.parametrize("module", CONFIGS, ids=lambda m: m.split(".")[1])
def test_config_trains_with_smoke_argument(module, tmp_path):
    metrics = train(load(module, "smoke"), tmp_path / "run", progress=False)
    assert metrics["step"] >= 1 and math.isfinite(metrics["train/loss"])


def test_factor_vae_smoke_run(tmp_path):
    config = load(UNSUPERVISED, "model=factor_vae,gamma=20,smoke")
    assert config.objective.name == "factor_vae" and config.objective.gamma == 20.0
    metrics = train(config, tmp_path / "run", progress=False)
    assert metrics["step"] == 2 and math.isfinite(metrics["train/loss"])


def test_unsupervised_defaults_are_disentanglement_libs():
    c = load(UNSUPERVISED)
    assert (c.batch_size, c.num_steps, c.num_latents, c.model) == (64, 300_000, 10, "dlib_conv_vae")
    assert c.optimizer.learning_rate == 1e-4
    assert (c.optimizer.b1, c.optimizer.b2, c.optimizer.eps) == (0.9, 0.999, 1e-8)
    assert c.objective.name == "beta_vae" and c.data_sampling == "iid"
    factor = load(UNSUPERVISED, "model=factor_vae")
    # disentanglement_lib's 300k global steps count both FactorVAE train ops.
    assert factor.num_steps == 150_000 and factor.batch_size == 64


def test_sweep_is_disentanglement_libs_grid():
    module = importlib.import_module(UNSUPERVISED)
    sweep = module.get_sweep()
    assert len(sweep) == len(set(sweep)) == 6 * 6 * DLIB_SEEDS
    runs = [dict(item.split("=") for item in arg.split(",")) for arg in sweep]
    assert {run["dataset"] for run in runs} == {"dsprites_procedural"}
    for model, (name, fixed, hparam, values) in DLIB_GRID.items():
        got = {(float(r[hparam]), int(r["seed"])) for r in runs if r["model"] == model}
        assert got == {(float(v), s) for v in values for s in range(DLIB_SEEDS)}, model
        for value in values:  # each grid point's config: objective, fixed values, swept value
            arg = next(
                a
                for a, r in zip(sweep, runs, strict=True)
                if r["model"] == model and float(r[hparam]) == value and r["seed"] == "7"
            )
            c = module.get_config(arg)
            assert (c.objective.name, c.objective[hparam], c.seed) == (name, value, 7)
            assert {k: c.objective[k] for k in fixed} == fixed
    study = module.get_sweep("dataset=study")
    assert len(study) == 12_600  # 6 models x 6 values x 50 seeds x 7 datasets
    assert len({dict(i.split("=") for i in a.split(","))["dataset"] for a in study}) == 7


def test_every_grid_model_builds():
    """Each model of the grid binds its objective's hyperparameters (no training)."""
    for model, (name, _, hparam, values) in DLIB_GRID.items():
        assert name in OBJECTIVES, f"{name} is not registered"
        run = build(load(UNSUPERVISED, f"model={model},{hparam}={values[-1]},smoke"))
        assert run.config.objective[hparam] == float(values[-1])


def test_weak_config_trains_on_pairs():
    c = load(WEAK, "model=ada_ml_vae,beta=4,k=2,dynamics=exact,smoke")
    assert (c.objective.name, c.objective.beta, c.data_pairs_k) == ("ada_ml_vae", 4.0, 2)
    batch = build(c).batch_fn(0)
    assert set(batch) == {"image", "image_pair", "factors", "factors_pair"}
    assert ((batch["factors"] != batch["factors_pair"]).sum(axis=1) == 2).all()
    default = load(WEAK)
    assert (default.objective.name, default.data_pairs_k, default.data_pairs_dynamics) == (
        "ada_gvae",
        -1,
        "dlib",
    )
    assert (default.batch_size, default.num_steps, default.optimizer.learning_rate) == (
        64,
        300_000,
        1e-4,
    )


@pytest.mark.parametrize(
    "path, arg, match",
    [
        (WEAK, "k=5,smoke", "1..4"),
        (WEAK, "k=0,smoke", "1..4"),
        (UNSUPERVISED, "model=vae", "known"),
        (UNSUPERVISED, "model=beta_vae,gamma=3", "allowed: beta"),
        (UNSUPERVISED, "fast", "smoke"),
    ],
)
def test_bad_arguments_are_one_line_user_errors(path, arg, match):
    with pytest.raises(UserError, match=match) as info:
        build(load(path, arg)).batch_fn  # noqa: B018 (batch_fn validates the pair options)
    assert "\n" not in str(info.value)


def test_pair_objective_without_pairs_is_refused():
    c = load(WEAK, "smoke")
    del c["data_pairs_k"]
    with pytest.raises(UserError, match="data_pairs_k"):
        build(c).batch_fn  # noqa: B018
