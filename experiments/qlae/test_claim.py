"""P02's claim, run by hand (not in the default suite): QLAE should beat the baselines (AE,
β-VAE and, where the setting trains them, β-TCVAE, BioAE and the ablations VQ-VAE with and
without weight decay and QLAE with a global codebook) on InfoM and InfoE at AE's PSNR, and lose
part of its margin over AE without weight decay (`run.py`).

    pytest experiments/qlae/test_claim.py                          # setting "test", ~25 min CPU
    QLAE_CLAIM_SETTING=gpu pytest experiments/qlae/test_claim.py   # 20,000 steps, ~45 min H200
    QLAE_CLAIM_RESULTS=a.json:b.json pytest experiments/qlae/test_claim.py

The last form checks finished runs' `results.json` files (joined by the path separator; each
model in one of them) instead of training: README "On a GPU" and "On this CPU" give the files of
setting "gpu". In setting "test" (600 steps on this CPU) only the comparisons with β-VAE hold;
the other assertions are kept as the paper states them and are strict expected failures there
(FINDING, README "Weight decay held at the paper's lr·λ·T"), plain assertions in setting "gpu",
where they held, except for the global-codebook ablation (GLOBAL_FINDING).
"""

import importlib.util
import json
import os
import pathlib

import numpy as np
import pytest

RUN = pathlib.Path(__file__).resolve().with_name("run.py")
RESULTS = [pathlib.Path(p) for p in os.environ.get("QLAE_CLAIM_RESULTS", "").split(os.pathsep) if p]
STORED = {path: json.loads(path.read_text()) for path in RESULTS}  # each results file, read once


def load_runner():
    spec = importlib.util.spec_from_file_location("qlae_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored_setting_name(runner, stored: dict) -> str:
    """The name of the setting that trains every model and seed a results file's `stored`
    setting ran, with the same member configs and scoring (the file may hold a subset of the
    setting's models; fields that no member uses may differ)."""
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
        return (setting.seeds, setting.num_eval_samples, setting.dci)

    for name, setting in runner.SETTINGS.items():
        if (
            set(ran.models) <= set(setting.models)
            and scored(setting) == scored(ran)
            and members(setting) == members(ran)
        ):
            return name
    raise ValueError(f"a results file was run with a setting run.py does not define: {stored}")


def setting_name(runner) -> str:
    """The setting under test: that of the results files (all the same), else
    `QLAE_CLAIM_SETTING` (default "test")."""
    if not STORED:
        return os.environ.get("QLAE_CLAIM_SETTING", "test")
    names = {stored_setting_name(runner, stored["setting"]) for stored in STORED.values()}
    if len(names) != 1:
        raise ValueError(f"the results files were run with different settings: {sorted(names)}")
    return names.pop()


RUNNER = load_runner()
SETTING = setting_name(RUNNER)
FINDING = (
    "not reproduced at reduced scale (600 steps, _16px nets, 16 px, 3 seeds, 10,000 scored "
    "images): QLAE InfoM 0.58 +- 0.06 vs AE 0.56 +- 0.13, InfoE 0.48 +- 0.01 vs AE 0.48 +- 0.01, "
    "PSNR 23.8 vs AE 25.1 dB, and QLAE w/o weight decay keeps more of the margin (0.046 vs "
    "0.021); holding the paper's lr*wd*T = 20 collapses QLAE to one code (README)"
)
# Setting "gpu" (README "On this CPU"): the ablations that did not reproduce at 20,000 steps.
GLOBAL_FINDING = (
    "not reproduced at 20,000 steps (CPU, 16 px): QLAE w/ global codebook InfoM 0.86 +- 0.02, "
    "InfoE 0.91 +- 0.04 vs QLAE 0.87 +- 0.03, 0.92 +- 0.05"
)
VQ_FINDING = (
    "not beyond the seed spread at 20,000 steps (CPU, 16 px): VQ-VAE w/ weight decay InfoM "
    "0.912 / 0.746 / 0.873 vs QLAE 0.875 / 0.854 / 0.875 (its InfoE is below QLAE's)"
)
claim = pytest.mark.xfail(SETTING == "test", strict=True, reason=FINDING)
global_codebook = pytest.mark.xfail(strict=True, reason=GLOBAL_FINDING)
MODELS = RUNNER.SETTINGS[SETTING].models
# The models QLAE should beat beyond the seed spread: every one the setting trains but QLAE and
# its weight-decay ablation (whose test is the margin over AE, below).
BASELINES = [m for m in MODELS if m not in ("qlae", "qlae_no_wd")]
EXPECTED_FAILURES = {  # setting: {(metric, baseline): mark}
    "test": {("infom", "ae"): claim, ("infoe", "ae"): claim},
    "gpu": {
        ("infom", "qlae_global"): global_codebook,
        ("infoe", "qlae_global"): global_codebook,
        ("infom", "vq_vae"): pytest.mark.xfail(strict=True, reason=VQ_FINDING),
    },
}.get(SETTING, {})


@pytest.fixture(scope="module")
def result():
    """The setting's rows and table: trained now, or read from the results files."""
    if not STORED:
        return RUNNER.run(RUNNER.SETTINGS[SETTING], log=lambda _: None)
    merged = {"rows": [], "table": {}}
    for path, stored in STORED.items():
        if twice := set(stored["table"]) & set(merged["table"]):
            raise ValueError(f"{path} repeats model(s) {sorted(twice)} of another results file")
        merged["rows"] += stored["rows"]
        merged["table"] |= stored["table"]
    if missing := [m for m in MODELS if m not in merged["table"]]:
        raise ValueError(f"setting {SETTING!r} has model(s) {missing} in no results file")
    return merged


def values(result, model, metric):
    return np.array([r[metric] for r in result["rows"] if r["model"] == model])


def test_at_least_three_seeds_per_model(result):
    for model in MODELS:
        assert len(values(result, model, "infom")) >= 3


@pytest.mark.parametrize(
    ("metric", "baseline"),
    [
        pytest.param(metric, baseline, marks=EXPECTED_FAILURES.get((metric, baseline), ()))
        for baseline in BASELINES
        for metric in ("infom", "infoe")
    ],
)
def test_qlae_beats_the_baseline_beyond_the_seed_spread(result, metric, baseline):
    # Every QLAE seed above every baseline seed: the margin exceeds both seed spreads.
    qlae, other = values(result, "qlae", metric), values(result, baseline, metric)
    assert qlae.min() > other.max(), (metric, baseline, qlae, other)


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
    assert set(table) == set(MODELS)
    for model, columns in table.items():
        for metric in ("infom", "infoe", "infoc", "psnr"):
            mean, half, n = columns[metric]
            assert n == 3 and half >= 0
            np.testing.assert_allclose(mean, values(result, model, metric).mean(), rtol=1e-6)
