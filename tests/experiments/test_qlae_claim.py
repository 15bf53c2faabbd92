"""P02's claim at reduced scale: QLAE beats AE and β-VAE on InfoM and InfoE at AE's PSNR, and
loses part of that margin without weight decay (`experiments/qlae/run.py`, setting "test")."""

import importlib.util
import pathlib

import numpy as np
import pytest

from disentax import config as config_lib
from disentax import data

RUN = pathlib.Path(__file__).resolve().parents[2] / "experiments" / "qlae" / "run.py"
CONFIG = RUN.with_name("config.py")


def load_runner():
    spec = importlib.util.spec_from_file_location("qlae_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def result():
    runner = load_runner()
    return runner.run(runner.SETTINGS["test"], log=lambda _: None)


def values(result, model, metric):
    return np.array([r[metric] for r in result["rows"] if r["model"] == model])


def test_at_least_three_seeds_per_model(result):
    for model in ("qlae", "ae", "vae", "qlae_no_wd"):
        assert len(values(result, model, "infom")) >= 3


@pytest.mark.parametrize("metric", ["infom", "infoe"])
@pytest.mark.parametrize("baseline", ["ae", "vae"])
def test_qlae_beats_the_baseline_beyond_the_seed_spread(result, metric, baseline):
    # Every QLAE seed above every baseline seed: the margin exceeds both seed spreads.
    qlae, other = values(result, "qlae", metric), values(result, baseline, metric)
    assert qlae.min() > other.max(), (metric, baseline, qlae, other)


def test_qlae_reconstructs_within_one_db_of_ae(result):
    qlae, ae = values(result, "qlae", "psnr"), values(result, "ae", "psnr")
    assert qlae.mean() >= ae.mean() - 1.0, (qlae, ae)


def test_weight_decay_carries_part_of_the_margin(result):
    # Without weight decay QLAE keeps less of its InfoM + InfoE margin over AE.
    def margin(model):
        return sum(
            values(result, model, m).mean() - values(result, "ae", m).mean()
            for m in ("infom", "infoe")
        )

    assert margin("qlae_no_wd") < margin("qlae"), (margin("qlae_no_wd"), margin("qlae"))


def test_table_has_an_interval_per_model_and_metric(result):
    table = result["table"]
    assert set(table) == {"qlae", "ae", "vae", "qlae_no_wd"}
    for model, columns in table.items():
        for metric in ("infom", "infoe", "infoc", "psnr"):
            mean, half, n = columns[metric]
            assert n == 3 and half >= 0
            np.testing.assert_allclose(mean, values(result, model, metric).mean(), rtol=1e-6)


@pytest.mark.parametrize("name", ["dsprites_procedural", "shapes3d_procedural"])
def test_reduced_datasets_are_4x4_block_means_of_the_procedural_ones(name):
    config_lib.load_config(f"{CONFIG}:smoke")  # registers the `_16px` datasets
    base, pooled = data.get(name), data.get(f"{name}_16px")
    assert pooled.factor_sizes == base.factor_sizes
    factors = np.array([[0] * len(base.factor_sizes), [s - 1 for s in base.factor_sizes]])
    images = np.asarray(base.observations_from_factors(factors))
    blocks = images.reshape(2, 16, 4, 16, 4, images.shape[-1])
    np.testing.assert_allclose(
        pooled.observations_from_factors(factors), blocks.mean(axis=(2, 4)), atol=1e-6
    )
