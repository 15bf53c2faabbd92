"""P34's figure: the ground-truth table (test accuracy against parameter count, every
architecture) with each method's chosen architectures marked, and the regret per method."""

import pathlib

import numpy as np

from experiments.p34_tanglenas import claims, layers

MARKERS = {
    "darts": ("o", "C0"),
    "drnas": ("s", "C1"),
    "spos_rs": ("^", "C2"),
    "spos_all": ("v", "C3"),
}


def draw(results: dict, path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = results["summary"]
    gt = np.asarray(s["gt_test_accuracy"])
    num_layers = results["runs"]["fixed"]["config"]["model"]["num_layers"]
    sizes = np.asarray([layers.standalone_param_count(i, num_layers) for i in range(len(gt))])
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    ax.scatter(sizes, gt, c="0.7", s=14, label="every architecture (ground truth)")
    for k, name in enumerate(MARKERS):
        marker, colour = MARKERS[name]
        chosen = np.asarray(s["chosen"][name])
        jitter = 1 + 0.03 * (k - 1.5)
        ax.scatter(sizes[chosen] * jitter, gt[chosen], marker=marker, edgecolors=colour, s=40,
                   facecolors="none", label=claims.LABELS[name])  # fmt: skip
        regret = np.asarray(s["regret"][name])
        bx.scatter(np.full(len(regret), k), regret, marker=marker, c=colour)
        bx.plot([k - 0.3, k + 0.3], [regret.mean()] * 2, c=colour)
    ax.set(xscale="log", xlabel="parameters (architecture alone)", ylabel="test accuracy")
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.legend(fontsize=7)
    bx.set_xticks(range(len(MARKERS)), [claims.LABELS[n] for n in MARKERS])
    bx.set(ylabel="regret (best − chosen test accuracy)", title="per search seed; line: mean")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
