"""Trains the Be More Active! population and writes its analysis:
`python -m experiments.p03_be_more_active.main --workdir DIR --arg cpu`.

`--arg cpu` (NOTES.md's reduced scale, `small` there), `smoke`, or `paper` (the default:
disentanglement_lib's scale), passed to `config.py`'s `get_sweep`; the run resumes from DIR.
Writes DIR/be_more_active.json (one row per model, `disentax.analysis.runs.analyse_population`)
and DIR/summary.json (the paper's claims as numbers for all models and per model type,
`runs.summarise_by`, and truncation's downstream change per setting with its 95 % t-interval
over seeds, `runs.downstream_changes`), and prints both.
"""

import argparse
import json
import pathlib

from disentax import config as config_lib
from disentax.analysis import runs
from disentax.train.sweep import run_sweep

CONFIG = "experiments.p03_be_more_active.config"
SUMMARY_FILE = "summary.json"
COLUMNS = (
    "objective", "beta", "seed", "num_passive", "num_mixed", "num_active", "tc/mean",
    "tc/sampled", "tc/mean_truncated", "tc/sampled_truncated", "mi/mean", "mi/sampled",
    "mi/mean_truncated", "mi/sampled_truncated", "downstream/mean", "downstream/mean_truncated",
)  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True, type=pathlib.Path)
    parser.add_argument("--arg", default="", help="config.py argument: cpu, smoke, paper, seeds=N")
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--num-test", type=int, default=5_000)
    parser.add_argument("--strategy", default="auto", choices=("auto", "vmap", "loop"))
    parser.add_argument(
        "--cross-validate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the paper's cross-validated logistic regression (else one fit at C = 1)",
    )
    args = parser.parse_args(argv)
    configs = config_lib.load_sweep(f"{CONFIG}:{args.arg}")
    run_sweep(configs, args.workdir, strategy=args.strategy)
    rows = runs.analyse_workdir(
        args.workdir,
        num_samples=args.num_samples,
        num_test=args.num_test,
        cross_validate=args.cross_validate,
    )
    print("\t".join(COLUMNS))
    for row in rows:
        print("\t".join(_format(row[c]) for c in COLUMNS))
    summary = {"claims": runs.summarise_by(rows), "downstream": runs.downstream_changes(rows)}
    (args.workdir / SUMMARY_FILE).write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


def _format(value):
    return f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
