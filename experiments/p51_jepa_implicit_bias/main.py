"""Trains P51's population and measures its learning order and critical times:
`python -m experiments.p51_jepa_implicit_bias.main --setting cpu`.

Trains `config.get_sweep(setting)` (objectives × depths × data models × seeds) through the
training core as populations (`run_sweep`, one per objective, depth and data model, the seeds
vmapped), reads each member's logged gains ‖W̄ e_i‖ back from its event files, and compares the
step at which each feature's gain reaches half its limit with the closed form (`theory`) at the
member's own sample moments. Writes `results/<setting>.json` (config, seeds, per-member numbers,
the summary table, package versions, commit, wall time) and `results/<setting>.png`.
"""

import argparse
import json
import pathlib
import time

import jax
import numpy as np

from disentax import config as config_lib
from disentax.analysis.intervals import t_interval
from disentax.provenance import provenance
from disentax.train import build
from disentax.train.population import group
from disentax.train.sweep import run_sweep
from disentax.viz.events import read_scalars
from experiments.p51_jepa_implicit_bias import config as p51_config
from experiments.p51_jepa_implicit_bias import theory
from experiments.settings import SETTINGS

CONFIG = "experiments.p51_jepa_implicit_bias.config"
PACKAGE = pathlib.Path(__file__).resolve().parent
RESULTS = PACKAGE / "results"


def member_configs(setting: str, seeds: int = 0) -> tuple[list[str], list]:
    """The sweep's `get_config` arguments and configs."""
    specs = p51_config.get_sweep(f"{setting},seeds={seeds}" if seeds else setting)
    return specs, [config_lib.load_config(f"{CONFIG}:{s}") for s in specs]


def event_dirs(configs, workdir: pathlib.Path) -> list[pathlib.Path]:
    """Each member's event-file folder: `workdir[/group_<g>]/members/<m>` (`run_sweep`'s)."""
    groups = group(configs)
    dirs = [None] * len(configs)
    for g, members in enumerate(groups):
        root = workdir if len(groups) == 1 else workdir / f"group_{g}"
        for m, i in enumerate(members):
            dirs[i] = root / "members" / str(m)
    return dirs


def sample_moments(config) -> dict[str, list[float]]:
    """λ̂_i = mean x_i y_i, σ̂²_i = mean x_i², ρ̂_i = λ̂_i/σ̂²_i of the member's training set."""
    task = build(config)
    batch = jax.device_get(task.batch(task.keys.data, 0))
    x, y = np.asarray(batch["x"], np.float64), np.asarray(batch["y"], np.float64)
    lam, sigma2 = (x * y).mean(0), (x * x).mean(0)
    cross = np.abs((x.T @ y) / len(x) - np.diag(lam)).max()
    return {"lam": lam.tolist(), "rho": (lam / sigma2).tolist(), "max_cross_cov": float(cross)}


def measure(config, events: pathlib.Path) -> dict:
    """One member's numbers: sample moments, measured and predicted critical steps per feature,
    the feature learned first (measured, predicted), final gains and their limits."""
    depth, eps = config.model.depth, config.model.init_scale
    objective, lr = config.objective.name, config.optimizer.learning_rate
    m = sample_moments(config)
    scalars = read_scalars(events)
    measured, predicted, final, limit = [], [], [], []
    for i, (lam, rho) in enumerate(zip(m["lam"], m["rho"], strict=True)):
        steps, gains = scalars[f"train/gain/{i}"]
        steps = steps - 1  # logged at step k: the metrics of the update from the params of k − 1
        limit.append(theory.gain_limit(objective, rho, depth))
        measured.append(theory.crossing_time(steps, gains, 0.5 * limit[-1]))
        predicted.append(theory.critical_steps(objective, lam, rho, depth, eps, lr))
        final.append(float(gains[-1]))
    balance = scalars["train/balance"][1]
    return {
        "objective": objective,
        "depth": depth,
        "data": config.data.model,
        "seed": config.seed,
        **m,
        "t_measured": measured,
        "t_predicted": predicted,
        "relative_error": [t / p - 1 for t, p in zip(measured, predicted, strict=True)],
        "first": int(np.argmin(measured)),
        "first_predicted": int(np.argmin(predicted)),
        "ratio": measured[0] / measured[1],
        "ratio_predicted": predicted[0] / predicted[1],
        "final_gain": final,
        "gain_limit": limit,
        "max_balance_defect": float(np.max(balance)),
        "num_steps": config.num_steps,
        "learning_rate": lr,
    }


def summarise(members: list[dict]) -> list[dict]:
    """Per (data model, objective, depth): the ratio t*_0/t*_1 over seeds (mean ± 95 %
    t-interval), the closed form's ratio, how many seeds learn the high-ρ feature (1) first,
    and the largest |measured/predicted − 1| of a critical time."""
    keys = sorted({(r["data"], r["objective"], r["depth"]) for r in members})
    table = []
    for data, objective, depth in keys:
        rows = [
            r
            for r in members
            if (r["data"], r["objective"], r["depth"]) == (data, objective, depth)
        ]
        ratios = [r["ratio"] for r in rows]
        mean, half = t_interval(ratios) if len(ratios) > 1 else (ratios[0], float("nan"))
        table.append(
            {
                "data": data,
                "objective": objective,
                "depth": depth,
                "seeds": len(rows),
                "ratio_mean": float(mean),
                "ratio_half_width": float(half),
                "ratio_predicted": float(np.mean([r["ratio_predicted"] for r in rows])),
                "high_rho_first": sum(r["first"] == 1 for r in rows),
                "high_rho_first_predicted": sum(r["first_predicted"] == 1 for r in rows),
                "max_abs_relative_error": float(
                    max(abs(e) for r in rows for e in r["relative_error"])
                ),
            }
        )
    return table


def run(setting: str, workdir, out=None, *, seeds: int = 0, progress: bool = True) -> dict:
    """Trains (resuming in `workdir`), measures and writes `out` (default
    `results/<setting>.json`) and its figure; returns the results."""
    workdir = pathlib.Path(workdir)
    out = pathlib.Path(out) if out else RESULTS / f"{setting}.json"
    specs, configs = member_configs(setting, seeds)
    start = time.perf_counter()
    run_sweep(configs, workdir, strategy="vmap", progress=progress)
    train_s = time.perf_counter() - start
    members = [measure(c, d) for c, d in zip(configs, event_dirs(configs, workdir), strict=True)]
    results = {
        "setting": setting,
        "sweep": specs,
        "configs": {
            f"{c.data.model}/{c.objective.name}/L{c.model.depth}": json.loads(config_lib.to_json(c))
            for c in configs
            if c.seed == configs[0].seed
        },
        "seeds": sorted({c.seed for c in configs}),
        "summary": summarise(members),
        "members": members,
        "train_wall_s": round(train_s, 1),
        "wall_s": round(time.perf_counter() - start, 1),
        **provenance(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    plot(results, workdir, configs, out.with_suffix(".png"))
    return results


def plot(results: dict, workdir: pathlib.Path, configs, path: pathlib.Path) -> None:
    """Left, middle: the gains of seed 0 (static data) over time (steps × lr), relative to
    their limits, JEPA and MAE, one shade per depth; right: t*_0/t*_1 by depth, measured (mean ±
    interval) and closed form (lines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    dirs = event_dirs(configs, workdir)
    seed = results["seeds"][0]
    for ax, objective in zip(axes[:2], theory.OBJECTIVES, strict=True):
        for c, d in zip(configs, dirs, strict=True):
            if (c.objective.name, c.data.model, c.seed) != (objective, "static", seed):
                continue
            scalars = read_scalars(d)
            shade = plt.cm.viridis((c.model.depth - 1) / 4)
            m = theory.moments(c.data.model, c.data.signal_var, c.data.noise_var, c.data.gamma)
            for i, style in ((0, "--"), (1, "-")):
                steps, gains = scalars[f"train/gain/{i}"]
                limit = theory.gain_limit(objective, m["rho"][i], c.model.depth)
                label = f"L={c.model.depth}" if i == 1 else None
                ax.plot(
                    (steps - 1) * c.optimizer.learning_rate,
                    gains / limit,
                    style,
                    color=shade,
                    label=label,
                )
        ax.set_xscale("log")
        ax.set_xlabel("time (steps × lr)")
        ax.set_ylabel("gain / limit")
        ax.set_title(f"{objective.upper()}, static: high-λ feature dashed, high-ρ solid")
        ax.legend(fontsize=8)
    ax = axes[2]
    for (data, objective), marker in zip(
        [(d, o) for d in theory.DATA_MODELS for o in theory.OBJECTIVES], "os^v", strict=True
    ):
        rows = [r for r in results["summary"] if (r["data"], r["objective"]) == (data, objective)]
        if not rows:
            continue
        depths = [r["depth"] for r in rows]
        ax.errorbar(
            depths,
            [r["ratio_mean"] for r in rows],
            yerr=[np.nan_to_num(r["ratio_half_width"]) for r in rows],
            fmt=marker,
            label=f"{objective} {data}",
        )
        ax.plot(depths, [r["ratio_predicted"] for r in rows], "-", color=ax.lines[-1].get_color())
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xlabel("encoder depth L")
    ax.set_ylabel("t*(high λ) / t*(high ρ)   (> 1: high ρ first)")
    ax.set_title("measured (markers) vs closed form (lines)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", default="cpu", choices=SETTINGS)
    parser.add_argument("--workdir", type=pathlib.Path, help="default: runs/p51_<setting>")
    parser.add_argument("--out", type=pathlib.Path, help="default: results/<setting>.json")
    parser.add_argument("--seeds", type=int, default=0, help="default: the setting's")
    args = parser.parse_args(argv)
    workdir = args.workdir or pathlib.Path("runs") / f"p51_{args.setting}"
    results = run(args.setting, workdir, args.out, seeds=args.seeds)
    for row in results["summary"]:
        print(
            f"{row['data']:8s} {row['objective']:4s} L={row['depth']}  t*0/t*1 = "
            f"{row['ratio_mean']:.3f} ± {row['ratio_half_width']:.3f} (closed form "
            f"{row['ratio_predicted']:.3f}); high-rho first {row['high_rho_first']}/{row['seeds']}"
            f"; max |rel err| {row['max_abs_relative_error']:.4f}"
        )
    print(f"wall {results['wall_s']} s (training {results['train_wall_s']} s)")


if __name__ == "__main__":
    main()
