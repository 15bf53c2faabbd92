"""P39's figure from a results file: (a) seed 0's first grid model's samples (a subsample of its
first pool), hallucinations in red; (b) the hallucination rate per data kind beside the data's
own rate; (c) the ROC AUC and the removal / retention rates at the 96 %-retention threshold;
(d) the hallucination rate of the recursive generations, variance vs random filtering (mean over
seeds, their range shaded)."""

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from experiments.p39_mode_interpolation import claims, hallucination  # noqa: E402


def draw(results: dict, path: str | pathlib.Path) -> None:
    """Four panels, written to `path`."""
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.0))
    example = results.get("example")
    ax = axes[0]
    if example:
        x = np.asarray(example["samples"])
        bad = np.asarray(example["hallucinated"], bool)
        mu = hallucination.modes("grid")
        ax.scatter(*x[~bad].T, s=2, c="tab:blue", label="in support")
        ax.scatter(*x[bad].T, s=4, c="tab:red", label="hallucinated (> 4σ from every mode)")
        ax.scatter(*mu.T, s=12, marker="x", c="k", label="modes")
        ax.set_aspect("equal")
        ax.legend(fontsize=7, loc="upper right")
    ax.set_title("(a) grid, seed 0: samples", fontsize=9)
    kinds = hallucination.KINDS
    rate = [claims.values(results, k, "hallucination_rate") for k in kinds]
    ax = axes[1]
    ax.bar(kinds, [r.mean() for r in rate], yerr=[np.ptp(r) / 2 for r in rate], color="tab:red")
    ax.scatter(kinds, [hallucination.data_rate(claims.DIMS[k]) for k in kinds], c="k", marker="_",
               s=400, label="data's own rate", zorder=3)  # fmt: skip
    ax.set(yscale="log", title="(b) hallucination rate", ylabel="fraction of samples")
    ax.legend(fontsize=7)
    ax = axes[2]
    width = 0.25
    for i, (metric, label) in enumerate((("auc", "ROC AUC"), ("removal", "removal"),
                                         ("retention", "retention"))):  # fmt: skip
        v = [np.nan_to_num(claims.values(results, k, metric)).mean() for k in kinds]
        ax.bar(np.arange(len(kinds)) + (i - 1) * width, v, width, label=label)
    ax.axhline(0.95, color="k", lw=0.8, ls="--")
    ax.set_xticks(range(len(kinds)), kinds)
    ax.set(ylim=(0, 1.05), title="(c) trajectory-variance detector")
    ax.legend(fontsize=7, loc="lower right")
    ax = axes[3]
    for how, colour in (("variance", "tab:green"), ("random", "tab:orange")):
        r = claims.track(results, how, "hallucination_rate")
        g = np.arange(r.shape[1])
        ax.plot(g, r.mean(0), marker="o", color=colour, label=f"{how} filter")
        ax.fill_between(g, r.min(0), r.max(0), color=colour, alpha=0.2)
    ax.set(xlabel="generation", ylabel="hallucination rate of the model's samples",
           title="(d) recursive training on the grid")  # fmt: skip
    ax.legend(fontsize=7)
    fig.suptitle(
        f"P39 mode interpolation, setting {results['setting']}, "
        f"{len(results['runs']['grid']['seeds'])} seed(s)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
