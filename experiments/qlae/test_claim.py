"""P02's claim at reduced scale, run by hand: `pytest experiments/qlae/test_claim.py` (not in the
default suite: it trains 12 models of the `_16px` networks for 600 steps and scores them on
10,000 images, about 25 min on this machine under load). QLAE should beat AE and β-VAE on InfoM
and InfoE at AE's PSNR, and lose part of that margin without weight decay (`run.py`, setting
"test"). At this scale only the comparisons with β-VAE hold; the other assertions are kept as the
paper states them and are strict expected failures (FINDING, README "Weight decay held at the
paper's lr·λ·T"), so a setting that shows them turns them into failures that ask for the mark to
go.
"""

import importlib.util
import pathlib

import numpy as np
import pytest

RUN = pathlib.Path(__file__).resolve().with_name("run.py")

FINDING = (
    "not reproduced at reduced scale (600 steps, _16px nets, 16 px, 3 seeds, 10,000 scored "
    "images): QLAE InfoM 0.58 +- 0.06 vs AE 0.56 +- 0.13, InfoE 0.48 +- 0.01 vs AE 0.48 +- 0.01, "
    "PSNR 23.8 vs AE 25.1 dB, and QLAE w/o weight decay keeps more of the margin (0.046 vs "
    "0.021); holding the paper's lr*wd*T = 20 collapses QLAE to one code (README)"
)
claim = pytest.mark.xfail(strict=True, reason=FINDING)


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


@pytest.mark.parametrize(
    ("metric", "baseline"),
    [
        pytest.param("infom", "ae", marks=claim),
        ("infom", "vae"),
        pytest.param("infoe", "ae", marks=claim),
        ("infoe", "vae"),
    ],
)
def test_qlae_beats_the_baseline_beyond_the_seed_spread(result, metric, baseline):
    # Every QLAE seed above every baseline seed: the margin exceeds both seed spreads.
    qlae, other = values(result, "qlae", metric), values(result, baseline, metric)
    assert qlae.min() > other.max(), (metric, baseline, qlae, other)


@claim
def test_qlae_reconstructs_within_one_db_of_ae(result):
    qlae, ae = values(result, "qlae", "psnr"), values(result, "ae", "psnr")
    assert qlae.mean() >= ae.mean() - 1.0, (qlae, ae)


@claim
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
