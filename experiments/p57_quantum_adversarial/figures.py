"""P57's figure from a results file: per task (each digits pair, the Ising phases) the test
accuracy against the attack radius ε for FGSM, BIM and PGD, the standard classifier (solid) and
the adversarially trained one (dashed), mean over seeds with the seeds' range shaded."""

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from experiments.p57_quantum_adversarial import claims  # noqa: E402

COLORS = {"fgsm": "tab:blue", "bim": "tab:orange", "pgd": "tab:red"}


def draw(results: dict, path: str | pathlib.Path) -> None:
    """One panel per task, written to `path`."""
    tasks = list(dict.fromkeys(n.removesuffix("_adv") for n in results["runs"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False)
    for ax, name in zip(axes[0], tasks, strict=True):
        for run, style, label in ((name, "-", "standard"), (f"{name}_adv", "--", "adv. trained")):
            if run not in results["runs"]:
                continue
            eps = [0.0] + claims.epsilons(results, run)
            clean = claims.values(results, run, "eval/test_accuracy")
            for kind in claims.ATTACKS:
                acc = np.stack(
                    [clean]
                    + [claims.values(results, run, claims.attacked(kind, e)) for e in eps[1:]],
                    axis=1,
                )
                ax.plot(eps, acc.mean(axis=0), style, marker="o", ms=3, color=COLORS[kind],
                        label=f"{kind.upper()}, {label}")  # fmt: skip
                ax.fill_between(
                    eps, acc.min(axis=0), acc.max(axis=0), color=COLORS[kind], alpha=0.12
                )
        title = name.replace("_", " ")
        row = results["runs"].get(name, {"per_seed": [{}]})["per_seed"][0]
        if "eval/noisy_accuracy" in row:
            noisy = claims.values(results, name, "eval/noisy_accuracy").mean()
            title += f" (noisy chip: {noisy:.2f})"
        ax.set(xlabel="ε (radians on the input angles)", ylabel="test accuracy", ylim=(0, 1.02),
               title=title)  # fmt: skip
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    axes[0][0].legend(fontsize=7, loc="lower left")
    seeds = len(next(iter(results["runs"].values()))["seeds"])
    fig.suptitle(
        f"P57 adversarial attacks, setting {results['setting']}, {seeds} seed(s)", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
