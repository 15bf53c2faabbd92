"""Tables of a study's `results.json`: seed vs hyperparameter variance per model, metric ranks.

    python experiments/dlib_unsupervised_study/summarize.py WORKDIR/results.json

Per model and metric: the variance over seeds within a hyperparameter value (averaged over the
values) against the variance of the per-value means (Locatello et al. 2019, Figure 7's reading:
"a good run with a bad hyperparameter can beat a bad run with a good hyperparameter"); then
Spearman's ρ between the metrics over all members (their Figure 3), as markdown.
"""

import argparse
import json
import pathlib

import numpy as np

from disentax.viz.sweep import hyperparameter_columns, metric_columns, rank_correlation


def variance_split(rows: list[dict], metric: str) -> tuple[float, float]:
    """(mean within-value variance over seeds, variance between the value means) of `metric`."""
    hparams = [h for h in hyperparameter_columns(rows) if h in rows[0]]
    by_value: dict[tuple, list[float]] = {}
    for r in rows:
        by_value.setdefault(tuple(r[h] for h in hparams), []).append(r[metric])
    within = float(np.mean([np.var(v, ddof=1) for v in by_value.values() if len(v) > 1]))
    between = float(np.var([np.mean(v) for v in by_value.values()], ddof=1))
    return within, between


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=pathlib.Path)
    rows = json.loads(parser.parse_args().results.read_text())
    metrics = metric_columns(rows)
    print("| model | metric | mean | seed var (within value) | hyperparameter var (between) |")
    print("|---|---|---|---|---|")
    for objective in dict.fromkeys(r["objective"] for r in rows):
        members = [r for r in rows if r["objective"] == objective]
        for metric in metrics:
            within, between = variance_split(members, metric)
            mean = np.mean([r[metric] for r in members])
            short = metric.removeprefix("eval/")
            print(f"| {objective} | {short} | {mean:.3f} | {within:.2e} | {between:.2e} |")
    rho = rank_correlation(rows, metrics)
    short = [m.removeprefix("eval/") for m in metrics]
    print(f"\nSpearman ρ over {len(rows)} members\n")
    print("| | " + " | ".join(short) + " |")
    print("|---" * (len(short) + 1) + "|")
    for name, line in zip(short, rho, strict=True):
        print(f"| {name} | " + " | ".join(f"{v:.2f}" for v in line) + " |")


if __name__ == "__main__":
    main()
