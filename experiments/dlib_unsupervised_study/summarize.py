"""Tables of a study's `results.json`: seed vs hyperparameter variance per model, metric ranks.

    python experiments/dlib_unsupervised_study/summarize.py WORKDIR/results.json

Per model and metric: the variance over seeds within a hyperparameter value (averaged over the
values) against the variance of the per-value means, and whether the value ranges overlap (the
best seed of the worse value reaches the worst seed of the better one: Locatello et al. 2019,
Figure 7's reading, a good run with a bad hyperparameter can beat a bad run with a good one);
then each metric's range over the members and Spearman's ρ between the metrics over all
members (their Figure 3), as markdown.
"""

import argparse
import json
import pathlib

import numpy as np

from disentax.viz.sweep import hyperparameter_columns, metric_columns, rank_correlation


def by_value(rows: list[dict], metric: str) -> list[list[float]]:
    """`metric` of `rows` (one model's members) grouped by hyperparameter value, over seeds."""
    hparams = [h for h in hyperparameter_columns(rows) if h in rows[0]]
    groups: dict[tuple, list[float]] = {}
    for r in rows:
        groups.setdefault(tuple(r[h] for h in hparams), []).append(r[metric])
    return list(groups.values())


def variance_split(rows: list[dict], metric: str) -> tuple[float, float]:
    """(mean within-value variance over seeds, variance between the value means) of `metric`,
    both with ddof = 1."""
    groups = by_value(rows, metric)
    within = float(np.mean([np.var(v, ddof=1) for v in groups if len(v) > 1]))
    between = float(np.var([np.mean(v) for v in groups], ddof=1))
    return within, between


def ranges_overlap(rows: list[dict], metric: str) -> bool:
    """Whether some seed of a value with a lower mean scores at least as high as some seed of a
    value with a higher mean: max over seeds of the worse value >= min of the better one, for
    any pair of values."""
    groups = sorted(by_value(rows, metric), key=np.mean)
    return any(max(lo) >= min(hi) for i, lo in enumerate(groups) for hi in groups[i + 1 :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=pathlib.Path)
    rows = json.loads(parser.parse_args().results.read_text())
    metrics = metric_columns(rows)
    short = [m.removeprefix("eval/") for m in metrics]
    objectives = list(dict.fromkeys(r["objective"] for r in rows))
    print(f"{len(rows)} members, {sum(r['alive'] for r in rows)} alive\n")
    print("| model | metric | mean | seed var (within) | hp var (between) | seed > hp | overlap |")
    print("|---|---|---|---|---|---|---|")
    counts = {m: [0, 0] for m in metrics}
    for objective in objectives:
        members = [r for r in rows if r["objective"] == objective]
        for metric, name in zip(metrics, short, strict=True):
            within, between = variance_split(members, metric)
            overlap = ranges_overlap(members, metric)
            counts[metric][0] += within > between
            counts[metric][1] += overlap
            mean = np.mean([r[metric] for r in members])
            print(
                f"| {objective} | {name} | {mean:.3f} | {within:.2e} | {between:.2e} | "
                f"{'yes' if within > between else 'no'} | {'yes' if overlap else 'no'} |"
            )
    print(f"\n| metric | range over members | seed > hp (of {len(objectives)}) | overlap |")
    print("|---|---|---|---|")
    for metric, name in zip(metrics, short, strict=True):
        values = [r[metric] for r in rows]
        seed, overlap = counts[metric]
        print(f"| {name} | {min(values):.4f} – {max(values):.4f} | {seed} | {overlap} |")
    rho = rank_correlation(rows, metrics)
    print(f"\nSpearman ρ over {len(rows)} members\n")
    print("| | " + " | ".join(short) + " |")
    print("|---" * (len(short) + 1) + "|")
    for name, line in zip(short, rho, strict=True):
        print(f"| {name} | " + " | ".join(f"{v:.2f}" for v in line) + " |")


if __name__ == "__main__":
    main()
