"""P02's claims as functions of results files (`run.py`'s `results.json`): QLAE beats the
baselines (AE, β-VAE and, where the setting trains them, β-TCVAE, BioAE and the ablations VQ-VAE
with and without weight decay and QLAE with a global codebook) on InfoM and InfoE beyond the seed
spread, at AE's PSNR, and keeps less of its margin over AE without weight decay.

    python -m experiments.p02_qlae.claims runs/qlae_cpu/results.json [more results.json ...]

prints each claim's outcome and exits non-zero when one differs from `EXPECTED_FAILURES` (a
claim expected to fail that holds, or one that fails unexpectedly), as a strict xfail would.
"""

import json
import pathlib
import sys

import numpy as np

from disentax.errors import UserError
from experiments.p02_qlae.config import SETTINGS, Setting, member_config

METRICS = ("infom", "infoe")
# The claims that do not reproduce, per setting, with the measured numbers (NOTES.md "Weight
# decay held at the paper's lr·λ·T", "On this CPU").
FINDING = (
    "not reproduced at reduced scale (600 steps, _16px nets, 16 px, 3 seeds, 10,000 scored "
    "images): QLAE InfoM 0.58 +- 0.06 vs AE 0.56 +- 0.13, InfoE 0.48 +- 0.01 vs AE 0.48 +- 0.01, "
    "PSNR 23.8 vs AE 25.1 dB, and QLAE w/o weight decay keeps more of the margin (0.046 vs "
    "0.021); holding the paper's lr*wd*T = 20 collapses QLAE to one code"
)
GLOBAL_FINDING = (
    "not reproduced at 20,000 steps (CPU, 16 px): QLAE w/ global codebook InfoM 0.86 +- 0.02, "
    "InfoE 0.91 +- 0.04 vs QLAE 0.87 +- 0.03, 0.92 +- 0.05"
)
VQ_FINDING = (
    "not beyond the seed spread at 20,000 steps (CPU, 16 px): VQ-VAE w/ weight decay InfoM "
    "0.912 / 0.746 / 0.873 vs QLAE 0.875 / 0.854 / 0.875 (its InfoE is below QLAE's)"
)
EXPECTED_FAILURES = {
    "cpu": {
        "beats/infom/ae": FINDING,
        "beats/infoe/ae": FINDING,
        "weight_decay_carries_the_margin": FINDING,
    },
    "gpu": {
        "beats/infom/qlae_global": GLOBAL_FINDING,
        "beats/infoe/qlae_global": GLOBAL_FINDING,
        "beats/infom/vq_vae": VQ_FINDING,
    },
}


def load(*paths: str | pathlib.Path) -> dict:
    """The results files of one setting merged: {"setting": its name in `SETTINGS`, "rows",
    "table"}; each of the setting's models must be in exactly one file."""
    if not paths:
        raise UserError("name at least one results.json")
    stored = {pathlib.Path(p): json.loads(pathlib.Path(p).read_text()) for p in paths}
    names = {setting_name(result["setting"]) for result in stored.values()}
    if len(names) != 1:
        raise UserError(f"the results files were run with different settings: {sorted(names)}")
    merged = {"setting": names.pop(), "rows": [], "table": {}}
    for path, result in stored.items():
        if twice := set(result["table"]) & set(merged["table"]):
            raise UserError(f"{path} repeats model(s) {sorted(twice)} of another results file")
        merged["rows"] += result["rows"]
        merged["table"] |= result["table"]
    models = SETTINGS[merged["setting"]].models
    if missing := [m for m in models if m not in merged["table"]]:
        raise UserError(f"setting {merged['setting']!r} has model(s) {missing} in no results file")
    return merged


def setting_name(stored: dict) -> str:
    """The name of the setting that trains every model and seed of a results file's `stored`
    setting with the same member configs and scoring (the file may hold a subset of the
    setting's models; fields that no member uses may differ)."""
    ran = Setting(
        **{
            k: tuple(map(tuple, v)) if k == "model_weight_decay_scales" else v
            for k, v in stored.items()
        }
        | {"models": tuple(stored["models"]), "seeds": tuple(stored["seeds"])}
    )

    def members(setting):
        return [member_config(m, s, setting).to_json() for m in ran.models for s in ran.seeds]

    def scored(setting):
        return (setting.seeds, setting.num_eval_samples, setting.dci)

    for name, setting in SETTINGS.items():
        if (
            set(ran.models) <= set(setting.models)
            and scored(setting) == scored(ran)
            and members(setting) == members(ran)
        ):
            return name
    raise UserError(f"a results file was run with a setting config.py does not define: {stored}")


def values(results: dict, model: str, metric: str) -> np.ndarray:
    """The per-seed values of `metric` for `model`."""
    return np.array([r[metric] for r in results["rows"] if r["model"] == model])


def baselines(results: dict) -> list[str]:
    """The models QLAE should beat beyond the seed spread: every one the setting trains but
    QLAE and its weight-decay ablation (whose claim is the margin over AE)."""
    return [m for m in SETTINGS[results["setting"]].models if m not in ("qlae", "qlae_no_wd")]


def beats(results: dict, metric: str, baseline: str) -> str | None:
    """Every QLAE seed above every `baseline` seed on `metric` (the margin exceeds both seed
    spreads); None when it holds, else what was measured."""
    qlae, other = values(results, "qlae", metric), values(results, baseline, metric)
    if qlae.min() > other.max():
        return None
    return f"QLAE {metric} {np.round(qlae, 3).tolist()} vs {baseline} {np.round(other, 3).tolist()}"


def reconstructs_as_ae(results: dict) -> str | None:
    """QLAE's mean PSNR at most 1 dB below AE's."""
    qlae, ae = values(results, "qlae", "psnr").mean(), values(results, "ae", "psnr").mean()
    return None if qlae >= ae - 1.0 else f"PSNR QLAE {qlae:.2f} vs AE {ae:.2f} dB"


def weight_decay_carries_the_margin(results: dict) -> str | None:
    """Without weight decay QLAE keeps less of its InfoM + InfoE margin over AE."""

    def margin(model):
        return sum(
            values(results, model, m).mean() - values(results, "ae", m).mean() for m in METRICS
        )

    with_wd, without = margin("qlae"), margin("qlae_no_wd")
    if without < with_wd:
        return None
    return f"margin over AE w/o weight decay {without:.3f} vs with {with_wd:.3f}"


def claims(results: dict) -> dict:
    """{claim id: None when it holds, else what was measured} for every claim the results'
    setting can test."""
    models = SETTINGS[results["setting"]].models
    outcome = {
        f"beats/{metric}/{baseline}": beats(results, metric, baseline)
        for baseline in baselines(results)
        for metric in METRICS
    }
    outcome["reconstructs_as_ae"] = reconstructs_as_ae(results)
    if "qlae_no_wd" in models:
        outcome["weight_decay_carries_the_margin"] = weight_decay_carries_the_margin(results)
    return outcome


def check(results: dict) -> list[str]:
    """What differs from the expectation of the results' setting: a claim that fails unexpectedly,
    or one expected to fail (`EXPECTED_FAILURES`) that holds."""
    expected = EXPECTED_FAILURES.get(results["setting"], {})
    return [
        f"{claim}: {'holds, expected to fail' if failure is None else failure}"
        for claim, failure in claims(results).items()
        if (failure is None) == (claim in expected)
    ]


def main(argv=None) -> int:
    results = load(*(sys.argv[1:] if argv is None else argv))
    expected = EXPECTED_FAILURES.get(results["setting"], {})
    for claim, failure in claims(results).items():
        outcome = "holds" if failure is None else f"fails: {failure}"
        print(f"{claim}: {outcome}{' (expected to fail)' if claim in expected else ''}")
    differences = check(results)
    print(f"setting {results['setting']!r}: {len(differences)} outcome(s) differ from expected")
    return 1 if differences else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserError as error:
        sys.exit(f"claims: error: {error}")
