"""P32's figure from a results file: the hybrid's test accuracy against the angle scale (exact
and with shots) beside the classical baseline and the PCA control, mean over seeds with the
seeds' range shaded."""

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from experiments.p32_quantum_transfer import claims  # noqa: E402


def draw(results: dict, path: str | pathlib.Path) -> None:
    """One panel, written to `path`."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    scales = []
    for shots, label in ((False, "hybrid, exact probabilities"), (True, "hybrid, shot counts")):
        runs = claims.quantum_runs(results, shots)
        if not runs:
            continue
        x = [s for s, _ in runs]
        scales += x
        acc = np.stack([claims.values(results, name) for _, name in runs], axis=1)
        line = ax.plot(x, acc.mean(axis=0), marker="o", label=label)[0]
        ax.fill_between(x, acc.min(axis=0), acc.max(axis=0), color=line.get_color(), alpha=0.2)
    for name, label, style in (("classical", "classical (latent)", "-"),
                               ("pca", "MLP on the 5 angles (control)", "--")):  # fmt: skip
        if name not in results["runs"]:
            continue
        acc = claims.values(results, name)
        ax.axhline(acc.mean(), color="k", ls=style, lw=1, label=label)
        ax.axhspan(acc.min(), acc.max(), color="grey", alpha=0.15)
    ax.set(xscale="log", xlabel="angle scale s (θ ∈ [0, s·π])", ylabel="test accuracy",
           ylim=(0, 1.02), title=f"P32 on load_digits, setting {results['setting']}, "
           f"{len(results['runs']['classical']['seeds'])} seed(s)")  # fmt: skip
    if scales:
        ax.set_xticks(sorted(set(scales)), [f"{s:g}" for s in sorted(set(scales))])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
