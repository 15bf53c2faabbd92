"""Plots of a sweep's results: metric vs hyperparameter over seeds, rank correlation of metrics."""

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

# Columns of a results row that describe the member rather than measure it.
DESCRIPTIVE = ("member", "group", "task", "model", "objective", "dataset", "seed", "alive")


def metric_columns(rows: list[dict]) -> list[str]:
    """The `eval/...` columns every row has, in first-seen order."""
    names = [k for k in rows[0] if k.startswith("eval/")]
    return [n for n in names if all(n in r for r in rows)]


def hyperparameter_columns(rows: list[dict]) -> list[str]:
    """Numeric columns that are neither descriptive nor measured (e.g. `beta`)."""
    return [
        k
        for k in dict.fromkeys(k for r in rows for k in r)
        if k not in DESCRIPTIVE and "/" not in k
    ]


def rank_correlation(rows: list[dict], metrics: list[str]) -> np.ndarray:
    """Spearman's ρ between every pair of `metrics` over the members: `[len, len]`; NaN where a
    metric is constant over the members."""
    values = np.array([[r[m] for m in metrics] for r in rows], np.float64)
    if len(metrics) == 1:
        return np.ones((1, 1))
    # Pearson's r of the ranks (ties averaged) is Spearman's ρ; a full matrix for any count.
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.corrcoef(stats.rankdata(values, axis=0), rowvar=False)


def plot_metric_by_hyperparameter(rows: list[dict], metric: str, path: pathlib.Path) -> None:
    """One box per (objective, hyperparameter value) over the seeds, as Locatello et al. 2019's
    Figure 7: the spread within a box is seed variance, between boxes hyperparameter variance.
    Rows without an objective (a task's) are labelled by their task."""
    labels, boxes = [], []
    kind = lambda r: r.get("objective", r.get("task", ""))  # noqa: E731
    for objective in dict.fromkeys(map(kind, rows)):
        members = [r for r in rows if kind(r) == objective]
        hparams = [h for h in hyperparameter_columns(members) if h in members[0]]
        setting = lambda r, hs=hparams: tuple(r.get(h) for h in hs)  # noqa: E731
        for value in sorted(dict.fromkeys(map(setting, members)), key=_numbers_first):
            boxes.append([r[metric] for r in members if setting(r) == value])
            shown = ",".join(f"{h}={v:g}" for h, v in zip(hparams, value, strict=True))
            labels.append(f"{objective}\n{shown}" if shown else objective)
    fig, ax = plt.subplots(figsize=(max(4, 0.8 * len(boxes) + 2), 4))
    ax.boxplot(boxes)
    ax.set_xticks(range(1, len(labels) + 1), labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(metric)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _numbers_first(values: tuple) -> list:
    """A sort key: numbers by value (1 < 5 < 100), then anything else by its text."""
    return [(0, v, "") if isinstance(v, int | float) else (1, 0, str(v)) for v in values]


def plot_rank_correlation(rows: list[dict], metrics: list[str], path: pathlib.Path) -> None:
    """Heatmap of `rank_correlation` (Locatello et al. 2019, Figure 3)."""
    rho = rank_correlation(rows, metrics)
    short = [m.removeprefix("eval/") for m in metrics]
    fig, ax = plt.subplots(figsize=(0.5 * len(metrics) + 3, 0.5 * len(metrics) + 2.5))
    image = ax.imshow(rho, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(short)), short, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(short)), short, fontsize=7)
    for i in range(len(short)):
        for j in range(len(short)):
            if np.isfinite(rho[i, j]):
                ax.text(j, i, f"{rho[i, j]:.2f}", ha="center", va="center", fontsize=6)
    fig.colorbar(image)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_sweep(rows: list[dict], directory: pathlib.Path) -> list[pathlib.Path]:
    """`plots/<metric>.png` for every metric and `plots/rank_correlation.png`; returns the paths."""
    out = pathlib.Path(directory) / "plots"
    out.mkdir(parents=True, exist_ok=True)
    metrics = metric_columns(rows)
    paths = []
    for metric in metrics:
        paths.append(out / (metric.removeprefix("eval/").replace("/", "_") + ".png"))
        plot_metric_by_hyperparameter(rows, metric, paths[-1])
    if metrics:
        paths.append(out / "rank_correlation.png")
        plot_rank_correlation(rows, metrics, paths[-1])
    return paths
