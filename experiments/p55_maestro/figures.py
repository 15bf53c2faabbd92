"""P55's figure from a results file: sin θ_max per rank (regression, autoencoder) and the
classifier's test accuracy against the kept-rank fraction, Maestro vs the SVD-cut dense MLP."""

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from experiments.p55_maestro import claims  # noqa: E402


def draw(results: dict, path: str | pathlib.Path) -> None:
    """Three panels, mean over seeds with the seeds' range shaded; written to `path`."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, run in zip(axes[:2], ("regression", "autoencoder"), strict=True):
        for metric, label in (("sin_u", "U vs left / PCs"), ("sin_v", "V vs right / PCs")):
            keys, values = claims.per_rank(results, run, metric)
            ranks = [int(k[1:]) for k in keys]
            _band(ax, ranks, values, label)
        ax.axhline(claims.MAX_SIN, color="grey", ls=":", lw=1, label="claim threshold")
        ax.set(title=f"{run}: first k components", xlabel="rank k", ylabel="sin θ_max",
               ylim=(-0.02, 1.02))  # fmt: skip
        ax.legend(fontsize=8)
    keys, maestro, dense = claims.accuracy_differences(results, "acc_fraction")
    fractions = [float(k[1:]) for k in keys]
    _band(axes[2], fractions, maestro, "Maestro (OD + GL + shrinking)")
    _band(axes[2], fractions, dense, "dense, SVD-truncated")
    axes[2].set(title="digits MLP: every layer at ⌈p·r⌉", xlabel="fraction p of each rank",
                ylabel="test accuracy", xscale="log")  # fmt: skip
    axes[2].legend(fontsize=8)
    fig.suptitle(f"P55 Maestro, setting {results['setting']}, {len(maestro)} seed(s)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _band(ax, x, values: np.ndarray, label: str) -> None:
    line = ax.plot(x, values.mean(axis=0), marker="o", ms=3, label=label)[0]
    ax.fill_between(x, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.2)
