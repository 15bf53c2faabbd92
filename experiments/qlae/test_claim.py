"""P02's claim, run by hand (not in the default suite): QLAE should beat AE and β-VAE on InfoM and
InfoE at AE's PSNR, and lose part of that margin without weight decay (`run.py`).

    pytest experiments/qlae/test_claim.py                          # setting "test", ~25 min CPU
    QLAE_CLAIM_SETTING=gpu pytest experiments/qlae/test_claim.py   # 20,000 steps, ~20 min H200
    QLAE_CLAIM_RESULTS=experiments/qlae/results/h200_20k.json pytest experiments/qlae/test_claim.py

The last form checks a finished run's `results.json` (here the H200 run of setting "gpu", README
"On a GPU") instead of training. In setting "test" (600 steps on this CPU) only the comparisons
with β-VAE hold; the other assertions are kept as the paper states them and are strict expected
failures there (FINDING, README "Weight decay held at the paper's lr·λ·T"), plain assertions in
setting "gpu", where all of them held.
"""

import importlib.util
import json
import os
import pathlib

import numpy as np
import pytest

RUN = pathlib.Path(__file__).resolve().with_name("run.py")
RESULTS = os.environ.get("QLAE_CLAIM_RESULTS")


def load_runner():
    spec = importlib.util.spec_from_file_location("qlae_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def setting_name(runner) -> str:
    """The setting under test: the one whose member configs are those the results file's
    setting trains (its every model and seed; fields that no member uses may differ), else
    `QLAE_CLAIM_SETTING` (default "test")."""
    if RESULTS is None:
        return os.environ.get("QLAE_CLAIM_SETTING", "test")
    stored = json.loads(pathlib.Path(RESULTS).read_text())["setting"]
    ran = runner.Setting(
        **{
            k: tuple(map(tuple, v)) if k == "model_weight_decay_scales" else v
            for k, v in stored.items()
        }
        | {"models": tuple(stored["models"]), "seeds": tuple(stored["seeds"])}
    )

    def members(setting):
        return [
            runner.member_config(m, s, setting).to_json() for m in ran.models for s in ran.seeds
        ]

    def scored(setting):
        return (setting.models, setting.seeds, setting.num_eval_samples, setting.dci)

    for name, setting in runner.SETTINGS.items():
        if scored(setting) == scored(ran) and members(setting) == members(ran):
            return name
    raise ValueError(f"{RESULTS} was run with a setting run.py does not define: {stored}")


RUNNER = load_runner()
SETTING = setting_name(RUNNER)
FINDING = (
    "not reproduced at reduced scale (600 steps, _16px nets, 16 px, 3 seeds, 10,000 scored "
    "images): QLAE InfoM 0.58 +- 0.06 vs AE 0.56 +- 0.13, InfoE 0.48 +- 0.01 vs AE 0.48 +- 0.01, "
    "PSNR 23.8 vs AE 25.1 dB, and QLAE w/o weight decay keeps more of the margin (0.046 vs "
    "0.021); holding the paper's lr*wd*T = 20 collapses QLAE to one code (README)"
)
claim = pytest.mark.xfail(SETTING == "test", strict=True, reason=FINDING)


@pytest.fixture(scope="module")
def result():
    if RESULTS is not None:
        return json.loads(pathlib.Path(RESULTS).read_text())
    return RUNNER.run(RUNNER.SETTINGS[SETTING], log=lambda _: None)


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
