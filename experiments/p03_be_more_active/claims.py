"""P03's claims as functions of a results file (`main.py`'s `be_more_active.json`: one row per
model, `disentax.analysis.runs.analyse_workdir`). The paper's claims, as issue #8 states them for
testing: mean representations are more correlated than sampled ones; the mean-minus-sampled total
correlation (TC) grows with the number of passive variables; removing the passive variables
("truncation") closes the gap; truncation does not cost downstream accuracy.

    python -m experiments.p03_be_more_active.claims results/small_be_more_active.json --setting cpu

prints each claim's outcome, over the whole population and per model type, and exits non-zero
when one differs from `EXPECTED_FAILURES[setting]` (a claim expected to fail that holds, or one
that fails unexpectedly), as a strict xfail would.
"""

import argparse
import json
import pathlib
import sys

from disentax.analysis import runs
from disentax.errors import UserError

# The thresholds (NOTES.md "Setting"): ρ(passive count, TC gap) at least MIN_SPEARMAN; after
# truncation at most MAX_GAP_LEFT of a median gap above MIN_GAP nats, over at least MIN_TRUNCATED
# models; no model's mean test accuracy lower by more than MAX_DOWNSTREAM_DROP.
MIN_SPEARMAN = 0.6
MIN_TRUNCATED = 3
MIN_GAP = 1.0
MAX_GAP_LEFT = 0.1
MAX_DOWNSTREAM_DROP = 0.02

RESULTS = pathlib.Path(__file__).resolve().with_name("results")
# The committed results files, by the setting that made them (NOTES.md: `small` is `cpu`).
COMMITTED = {
    "cpu": RESULTS / "small_be_more_active.json",
    "h200_conv_20k": RESULTS / "h200_conv_20k_be_more_active.json",
}

# The claims that do not reproduce, per setting, with the measured numbers:
# - "cpu": config.py's `cpu` (NOTES.md's `small`), 30 models, `results/small_*.json`;
# - "h200_conv_20k": the `paper` networks stopped at 20,000 of 300,000 steps, seed 0, one H200
#   (truncation keeps downstream accuracy there only as 5 of its 100 variables are passive);
# - "tiny_1k": the suite's claim test (`test_p03_be_more_active.py`), 7 tiny FC VAEs, 1,000 steps;
# - "tiny_20k": the same population trained 20,000 steps (`test_longer_training.py`, by hand).
EXPECTED_FAILURES = {
    "cpu": {
        "gap_grows_with_passive_variables": (
            "not shown at the `cpu` scale (30 256-unit FC VAEs, 1,000 steps, 3 seeds; measured: "
            "rho = -0.43, p = 0.018; beta-VAE -0.48, beta-TCVAE -0.40; and beta-VAE beta = 16 "
            "seed 2 has no active variable): the largest gaps are those of the beta <= 2 models "
            "with 5-6 mixed variables, the 8-9-passive models' are near 1 nat; NOTES.md"
        ),
        "truncation_closes_the_gap": (
            "not shown at the `cpu` scale (measured: median gap 1.10 -> 0.19 nats, 17 % left, "
            "over 24 models; beta-VAE 0.91 -> 0.105, 12 %; beta-TCVAE 1.23 -> 0.225, 18 %): "
            "closed where a model's non-active variables are all passive (beta-VAE beta = 8: "
            "<= 0.001 nats left), kept where mixed variables remain; NOTES.md"
        ),
        "truncation_keeps_downstream_accuracy": (
            "not shown at the `cpu` scale (measured: down to -0.094 of mean test accuracy, "
            "beta-VAE beta = 16 seed 2; -0.078 +- 0.031 over 3 seeds for beta-VAE beta = 8, "
            "5,000 test images; beta-TCVAE down to -0.052): the passive variables' means still "
            "carry factor information; NOTES.md"
        ),
    },
    "h200_conv_20k": {
        "gap_grows_with_passive_variables": (
            "not testable at 20,000 of 300,000 steps (measured: no model has an active variable, "
            "5 passive, 95 mixed, 0 active of 100; rho = 0.52, p = 0.12): the variables have "
            "not separated; "
            "NOTES.md 'disentanglement_lib's networks at 20,000 steps on a GPU'"
        ),
        "truncation_closes_the_gap": (
            "not shown at 20,000 of 300,000 steps (measured: median gap 3.14 -> 2.10 nats, "
            "67 % left, over 5 models with 1 passive variable each; beta-VAE: 2 such models); "
            "NOTES.md 'disentanglement_lib's networks at 20,000 steps on a GPU'"
        ),
    },
    "tiny_1k": {
        "gap_grows_with_passive_variables": (
            "not shown at this scale: after 1,000 steps no model has an active variable "
            "(25 passive, 45 mixed, 0 active of 70), so its rho = 0.86 ranks untrained models; "
            "trained on, the models separate and rho falls to between -0.43 and 0.20 from 3,000 "
            "to 30,000 steps (experiments/p03_be_more_active/NOTES.md 'Longer training'); -0.43 "
            "at the `small` scale"
        ),
        "truncation_closes_the_gap": (
            "not shown at this scale (measured: median gap 10.4 nats -> 6.9 after truncation): "
            "the tiny models' non-passive variables are mostly mixed (E[sigma^2] between 0.1 and "
            "0.9), as correlated in the mean codes as passive ones; nor at the `small` scale "
            "(30 256-unit models: 1.10 -> 0.19 nats, 17 % left); shown once the variables "
            "separate, after 20,000 steps of this setting (3.01 -> 0.07 nats, 2.2 % left; "
            "test_longer_training.py); see experiments/p03_be_more_active/NOTES.md"
        ),
        "truncation_keeps_downstream_accuracy": (
            "not shown at this scale (measured: mean test accuracy drops by up to 0.091, "
            "beta-VAE beta = 16, whose 10 variables are all passive: 0.200 -> 0.108, a constant "
            "code): the passive variables' means still carry factor information here; also at "
            "the `small` scale (-0.078 +- 0.031 over 3 seeds "
            "for beta-VAE beta = 8, 5,000 test images) and after 30,000 steps of this setting "
            "(-0.043 for beta-VAE beta = 1); see experiments/p03_be_more_active/NOTES.md"
        ),
    },
    "tiny_20k": {
        "gap_grows_with_passive_variables": (
            "not shown at 20,000 steps (measured: Spearman rho = 0.20, p = 0.67; between -0.43 "
            "and 0.20 from 3,000 to 30,000 steps): the beta-TCVAE beta = 16 with no passive "
            "variable (9 mixed) has a gap of 4.6 nats, as large as the two 9-passive beta-VAEs' "
            "4.5-5.3, and the models with 4-8 passive variables have 2.4-3.3; NOTES.md "
            "'Longer training'"
        ),
        "truncation_keeps_downstream_accuracy": (
            "not shown at 20,000 steps (measured: beta-VAE beta = 1 and 2 lose 0.037 and 0.039 "
            "of mean test accuracy when their 6 passive variables are removed; -0.043 at 30,000 "
            "steps): the passive variables' means (Var_x[mu] 0.0004-0.002) still carry factor "
            "information, above chance alone (0.167 against 0.108); NOTES.md 'Longer training'"
        ),
    },
}


def load(path: str | pathlib.Path) -> list[dict]:
    """The rows of a results file (`be_more_active.json`), at least 3 of them living."""
    rows = json.loads(pathlib.Path(path).read_text())
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "tc_gap" in r for r in rows):
        raise UserError(f"{path} is not a be_more_active.json (a list of rows, one per model)")
    _living(rows)
    return rows


def mean_more_correlated_than_sampled(rows: list[dict]) -> str | None:
    """Every living model's mean codes have at least the TC and the mean pairwise MI of its
    sampled codes; None when it holds, else the models where not."""
    fewer = [
        f"{_name(r)}: TC {r['tc/mean']:.3f} vs {r['tc/sampled']:.3f}, "
        f"MI {r['mi/mean']:.3f} vs {r['mi/sampled']:.3f}"
        for r in _living(rows)
        if not (r["tc/mean"] >= r["tc/sampled"] and r["mi/mean"] >= r["mi/sampled"])
    ]
    return f"mean codes less correlated than sampled in {'; '.join(fewer)}" if fewer else None


def gap_grows_with_passive_variables(rows: list[dict]) -> str | None:
    """Spearman's ρ(passive count, TC gap) at least `MIN_SPEARMAN`, over trained models: each
    has an active variable (the claim is about passive variables beside active ones) and the
    passive counts are not all equal."""
    alive, summary = _living(rows), runs.summarise(rows)
    rho = f"rho = {summary['spearman']:.2f} (p = {summary['spearman_pvalue']:.3f})"
    failures = []
    if not summary["spearman"] >= MIN_SPEARMAN:
        failures.append(f"{rho} < {MIN_SPEARMAN}")
    if inactive := [r for r in alive if r["num_active"] < 1]:
        types = [sum(r[f"num_{t}"] for r in alive) for t in ("passive", "mixed", "active")]
        named = f" ({', '.join(map(_name, inactive))})" if len(inactive) <= 3 else ""
        failures.append(
            f"{len(inactive)} of {len(alive)} models have no active variable{named}; "
            f"{types[0]} passive, {types[1]} mixed, {types[2]} active in all"
        )
    if len({r["num_passive"] for r in alive}) < 2:
        failures.append(f"every model has {alive[0]['num_passive']} passive variables")
    if failures and summary["spearman"] >= MIN_SPEARMAN:
        failures.insert(0, rho)
    return "; ".join(failures) or None


def truncation_closes_the_gap(rows: list[dict]) -> str | None:
    """Over the models with passive variables and at least 2 variables left after truncation (at
    least `MIN_TRUNCATED` of them, median gap above `MIN_GAP` nats), the median truncated gap is
    within `MAX_GAP_LEFT` of the median gap."""
    s = runs.summarise(rows)
    full, left, n = s["tc_gap_median"], s["tc_gap_truncated_median"], s["num_truncated"]
    if n >= MIN_TRUNCATED and full > MIN_GAP and abs(left) < MAX_GAP_LEFT * full:
        return None
    return (
        f"median gap {full:.3f} -> {left:.3f} nats after truncation ({abs(left) / full:.1%} "
        f"left) over {n} models; needs < {MAX_GAP_LEFT:.0%} of a gap > {MIN_GAP} nat over "
        f">= {MIN_TRUNCATED} models"
    )


def truncation_keeps_downstream_accuracy(rows: list[dict]) -> str | None:
    """No living model's mean test accuracy lower by more than `MAX_DOWNSTREAM_DROP` after
    truncation (its smallest change, `runs.summarise`'s "downstream_change_min")."""
    if (smallest := runs.summarise(rows)["downstream_change_min"]) >= -MAX_DOWNSTREAM_DROP:
        return None
    worst = min(_living(rows), key=lambda r: r["downstream/mean_truncated"] - r["downstream/mean"])
    return (
        f"truncation changes mean test accuracy by {smallest:.3f} ({_name(worst)}: "
        f"{worst['downstream/mean']:.3f} -> {worst['downstream/mean_truncated']:.3f}); "
        f"needs >= {-MAX_DOWNSTREAM_DROP}"
    )


CLAIMS = {
    claim.__name__: claim
    for claim in (
        mean_more_correlated_than_sampled,
        gap_grows_with_passive_variables,
        truncation_closes_the_gap,
        truncation_keeps_downstream_accuracy,
    )
}


def claims(rows: list[dict]) -> dict[str, str | None]:
    """{claim id: None when it holds, else what was measured} over the living models of `rows`."""
    return {name: claim(rows) for name, claim in CLAIMS.items()}


def groups(rows: list[dict], key: str = "objective") -> dict[str, list[dict]]:
    """{"all": every row} and the rows of each value of `key` with at least 3 living models (the
    paper states its claims for every model type, so each must hold alone; `runs.summarise_by`)."""
    out = {"all": rows}
    for row in rows:
        out.setdefault(str(row[key]), []).append(row)
    return {name: group for name, group in out.items() if sum(r["alive"] for r in group) >= 3}


def check(rows: list[dict], setting: str) -> list[str]:
    """What differs from `setting`'s expectation, in every group (`groups`): a claim that fails
    unexpectedly, or one expected to fail (`EXPECTED_FAILURES`) that holds."""
    expected = expected_failures(setting)
    return [
        f"{group}/{claim}: {'holds, expected to fail' if failure is None else failure}"
        for group, members in groups(rows).items()
        for claim, failure in claims(members).items()
        if (failure is None) == (claim in expected)
    ]


def expected_failures(setting: str) -> dict[str, str]:
    """{claim id: the measured numbers} of the claims that do not reproduce in `setting`."""
    if setting not in EXPECTED_FAILURES:
        raise UserError(f"unknown setting {setting!r}; known: {', '.join(EXPECTED_FAILURES)}")
    return EXPECTED_FAILURES[setting]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=pathlib.Path, help="a be_more_active.json")
    parser.add_argument("--setting", default="cpu", help=f"one of {', '.join(EXPECTED_FAILURES)}")
    args = parser.parse_args(argv)
    rows, expected = load(args.results), expected_failures(args.setting)
    for group, members in groups(rows).items():
        for claim, failure in claims(members).items():
            outcome = "holds" if failure is None else f"fails: {failure}"
            print(f"{group}/{claim}: {outcome}{' (expected to fail)' if claim in expected else ''}")
    differences = check(rows, args.setting)
    print(f"setting {args.setting!r}: {len(differences)} outcome(s) differ from expected")
    return 1 if differences else 0


def _living(rows: list[dict]) -> list[dict]:
    alive = [r for r in rows if r["alive"]]
    if len(alive) < 3:
        raise UserError(f"the claims need at least 3 living models, got {len(alive)}")
    return alive


def _name(row: dict) -> str:
    return f"{row['objective']} beta={row['beta']:g} seed={row['seed']}"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserError as error:
        sys.exit(f"claims: error: {error}")
