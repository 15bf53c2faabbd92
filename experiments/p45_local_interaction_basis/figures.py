"""P45's figure: test cross-entropy against the number of kept directions, LIB vs PCA, per node
layer (mean over seeds)."""

import pathlib

import numpy as np


def curves(results: dict, basis: str, layer: int) -> np.ndarray:
    """`[seeds, k]` ablated test losses (k = 1..min size over seeds)."""
    rows = results["runs"]["lib"]["per_seed"]
    prefix = f"eval/ablated_loss_{basis}/l{layer}/k"
    per_seed = [[row[k] for k in sorted(row) if k.startswith(prefix)] for row in rows]
    size = min(len(c) for c in per_seed)
    return np.array([c[:size] for c in per_seed])


def draw(results: dict, path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["runs"]["lib"]["per_seed"]
    layers = sorted({int(k.split("/")[2][1:]) for k in rows[0] if k.startswith("eval/k_star_lib")})
    fig, axes = plt.subplots(1, len(layers), figsize=(4 * len(layers), 3.2), squeeze=False)
    full = np.mean([row["eval/test_loss"] for row in rows])
    for ax, layer in zip(axes[0], layers, strict=True):
        for basis, colour in (("lib", "C0"), ("pca", "C1")):
            c = curves(results, basis, layer)
            k = np.arange(1, c.shape[1] + 1)
            ax.plot(k, c.mean(0), colour, label=basis.upper())
        ax.axhline(full, color="k", lw=0.8, ls=":", label="intact")
        ax.set(yscale="log", xlim=(0, 40), title=f"node layer {layer}", xlabel="kept directions")
    axes[0][0].set_ylabel("test cross-entropy")
    axes[0][0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
