"""P49's figure from a results file: the test SSIM against the circuit's depth p for each design
beside the CAE and the noisy inputs (main point), and against the qubit count for the QAOA-QCAE
and the CAE; mean over seeds with the seeds' range shaded."""

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from experiments.p49_qaoa_autoencoder import claims  # noqa: E402
from experiments.p49_qaoa_autoencoder.config import DEPTHS, P_MAIN  # noqa: E402

LABELS = {"qaoa": "QAOA (RZZ + RX)", "hea": "hardware-efficient (RY + CNOT)",
          "none": "no entanglement (RZ + RX)"}  # fmt: skip


def _band(ax, x, per_run, label, **style):
    y = np.stack(per_run, axis=1)  # [seeds, points]
    line = ax.plot(x, y.mean(axis=0), marker="o", label=label, **style)[0]
    ax.fill_between(x, y.min(axis=0), y.max(axis=0), color=line.get_color(), alpha=0.2)


def _reference(ax, results, run, label, style):
    if run is None:
        return
    v = claims.values(results, run)
    ax.axhline(v.mean(), color="k", ls=style, lw=1, label=label)
    ax.axhspan(v.min(), v.max(), color="grey", alpha=0.15)


def _legend(ax):
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="lower right")


def draw(results: dict, path: str | pathlib.Path) -> None:
    """Two panels, written to `path`."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.0))
    main = claims.MAIN
    for variant, label in LABELS.items():
        found = [(p, claims.run_of(results, variant, p, main)) for p in DEPTHS]
        found = [(p, run) for p, run in found if run is not None]
        if found:
            _band(left, [p for p, _ in found], [claims.values(results, r) for _, r in found], label)
    cae = claims.run_of(results, "classical", 0, main)
    _reference(left, results, cae, "classical CAE (same parameters)", "-")
    if cae is not None:
        noisy = claims.values(results, cae, "eval/input_ssim")[0]
        left.axhline(noisy, color="k", ls=":", lw=1, label="noisy input")
    left.set(xlabel="circuit layers p", ylabel="test SSIM", xticks=list(DEPTHS),
             title=f"n = {main[0]} qubits, σ = {main[1]:g}")  # fmt: skip
    _legend(left)
    sigma = main[1]
    ns = [n for n, s in claims.points(results) if s == sigma]
    for variant, label in (("classical", "classical CAE"), ("qaoa", f"QAOA-QCAE, p = {P_MAIN}")):
        found = [(n, claims.run_of(results, variant, P_MAIN if variant == "qaoa" else 0,
                                   (n, sigma))) for n in ns]  # fmt: skip
        found = [(n, run) for n, run in found if run is not None]
        if found:
            per_run = [claims.values(results, r) for _, r in found]
            _band(right, [n for n, _ in found], per_run, label)
    right.set(xlabel="latent features = qubits n", ylabel="test SSIM", xticks=ns,
              title=f"σ = {sigma:g}")  # fmt: skip
    _legend(right)
    seeds = len(next(iter(results["runs"].values()))["seeds"])
    fig.suptitle(f"P49 on noisy load_digits, setting {results['setting']}, {seeds} seed(s)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
