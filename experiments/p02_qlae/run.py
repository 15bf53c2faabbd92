"""The QLAE tables at reduced scale: seeds of each model trained as populations, scored as the
paper (InfoM, InfoE, InfoC, DCI, PSNR), and written as mean ± 95 % t-interval over seeds.

    python -m experiments.p02_qlae.run --setting cpu --out runs/qlae_cpu   # the claim run
    python -m experiments.p02_qlae.run --setting long --out runs/qlae_long  # the longer hand run
    python -m experiments.p02_qlae.run --setting gpu --out runs/qlae_gpu    # 20,000 steps, a GPU
    python -m experiments.p02_qlae.run --setting gpu_gans --out runs/qlae_gans  # the GAN rows
    python -m experiments.p02_qlae.run --add-dci --out runs/qlae_gpu  # DCI from saved codes
    python -m experiments.p02_qlae.claims runs/qlae_cpu/results.json  # the claims it fails

The settings are `config.SETTINGS` (`smoke`, `cpu`, `long`, `gpu`, `gpu_gans`, `paper`).
Model names are `config.py`'s with a `_no_wd` suffix for the "w/o weight decay" ablations.
The GAN rows (InfoWGAN-GP, QLInfoWGAN-GP) keep `config.py`'s optimizers (2e-4, both players),
count generator updates as steps and are scored on the critic's latent head, without PSNR.
"""

import argparse
import dataclasses
import json
import pathlib
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

import experiments.p02_qlae.components  # noqa: F401 (registers the 16 px datasets, networks)
from disentax import data, metrics, viz
from disentax.analysis import format_interval, t_interval
from disentax.errors import UserError
from disentax.train.evaluate import codes
from disentax.train.population import Population
from experiments.p02_qlae.config import (
    GANS,
    LABELS,
    NO_WD,
    SETTINGS,
    Setting,
    member_config,
    require_known,
)

# Models whose representation (`encode(x)[0]`) is discrete: quantized values, VQ code indices.
DISCRETE = ("qlae", "qlae_global", "vq_vae", "ql_info_wgan")
COLUMNS = (
    "infom",
    "infoe",
    "infoc",
    "dci/disentanglement",
    "dci/completeness",
    "dci/informativeness_test",
    "psnr",
)


def train(model: str, setting: Setting, *, log=print):
    """The seeds of `model` trained as one population: (population, state); logs each member's
    loss (a GAN's: the generator's) and the elapsed time ten times per run."""
    population = Population.create([member_config(model, s, setting) for s in setting.seeds])
    pop = population.init_state()
    start, every = time.perf_counter(), max(setting.num_steps // 10, 1)
    for step in range(setting.num_steps):
        pop, step_metrics = population.step_fn(pop, population.batch_fn(step))
        if (step + 1) % every == 0:
            loss = [round(float(v), 4) for v in np.asarray(step_metrics["loss"])]
            log(f"{model}: step {step + 1}, loss {loss}, {time.perf_counter() - start:.1f} s")
    return population, jax.block_until_ready(pop)


def score(model: str, population: Population, pop, images, factors, setting: Setting):
    """Per member: InfoM, InfoE, InfoC of `encode(x)[0]` (discrete estimators for `DISCRETE`
    models and sklearn's logistic regression for InfoE, as the QLAE code; for a GAN the critic's
    latent head, quantized in QLInfoWGAN-GP), DCI (when `setting.dci`) and, for the
    autoencoders only (the QLAE code gives its GANs none), the mean PSNR of sigmoid(logits) on
    `images`. Returns (rows, the scored codes `[M, N, L]`)."""
    run = population.run
    discrete = model.removesuffix(NO_WD) in DISCRETE
    gan = model.removesuffix(NO_WD) in GANS
    # The number of values of a discrete latent: its codebook size, the same for every member.
    width = getattr(run.model, "num_values", getattr(run.model, "num_codes", None))
    width = width if discrete else None
    reconstruct = jax.jit(lambda p, x: jax.nn.sigmoid(run.model.apply({"params": p}, x)[0]))
    rows, scored = [], []
    for m in range(population.size):
        params = population.member(pop, m).params
        batches = range(0, images.shape[0], 500)
        z = np.concatenate(
            [
                codes(params, images[i : i + 500], None, model=run.model, kind="mean")
                for i in batches
            ]
        )
        # InfoE by the QLAE code's sklearn regression and its stopping rule (100 lbfgs
        # iterations), as the paper's numbers (NOTES.md "Diagnosis").
        info = metrics.infomec(
            z, factors, discrete_latents=discrete, num_latent_values=width, mode="reference"
        )
        row = {k: float(info[k]) for k in ("infom", "infoe", "infoc")}
        if not gan:
            psnr = [
                metrics.psnr(reconstruct(params, images[i : i + 500]), images[i : i + 500])
                for i in batches
            ]
            row["psnr"] = float(np.mean(np.concatenate(psnr)))
        row["active_latents"] = int(info["num_active_latents"])
        row["nmi"] = np.asarray(info["nmi"]).tolist()
        if setting.dci:
            row.update(dci_columns(z, factors))
        rows.append({"model": model, "seed": population.configs[m].seed, **row})
        scored.append(z)
    return rows, np.stack(scored)


def dci_columns(z, factors) -> dict:
    """DCI (disentanglement_lib's: gradient-boosted trees) of codes `[N, L]`, fitted on the
    first half of the images and tested on the second: {"dci/<score>": value}."""
    half = z.shape[0] // 2
    scores = metrics.dci(z[:half], factors[:half], z[half:], factors[half:])
    return {f"dci/{k}": float(v) for k, v in scores.items() if np.ndim(v) == 0}


def add_dci(out: str | pathlib.Path, *, log=print) -> dict:
    """Scores DCI after the fact from a finished run's `codes_<model>.npz` (a GPU run's codes,
    scored on a CPU): adds `dci_columns` to each row of `results.json`, rewrites it and
    `table.md`, and returns the result."""
    out = pathlib.Path(out)
    path = out / "results.json"
    if not path.is_file():
        raise UserError(f"{out} holds no results.json; give run.py's --out of a finished run")
    result = json.loads(path.read_text())
    for row in result["rows"]:
        saved = out / f"codes_{row['model']}.npz"
        if not saved.is_file():
            raise UserError(f"{saved} is missing: the run saved no codes for {row['model']!r}")
        with np.load(saved) as arrays:
            seeds = arrays["seeds"].tolist()
            if row["seed"] not in seeds:
                raise UserError(f"{saved} holds seeds {seeds}, not the row's seed {row['seed']}")
            member = seeds.index(row["seed"])
            row.update(dci_columns(arrays["codes"][member], arrays["factors"]))
        log(f"{row['model']} seed {row['seed']}: DCI-D {row['dci/disentanglement']:.3f}")
    result["table"] = table(result["rows"])
    path.write_text(json.dumps(result, indent=1) + "\n")
    (out / "table.md").write_text(markdown(result["table"]) + "\n")
    return result


def run(setting: Setting, out: str | pathlib.Path | None = None, *, log=print) -> dict:
    """Trains and scores every model of `setting`; returns {"rows", "table", "wall_s",
    "setting"} and, with `out`, writes `results.json` (after each model, so an interrupted run
    keeps the models it finished), each model's scored codes and the factors
    (`codes_<model>.npz`: codes `[seeds, N, L]`, seeds, factors `[N, K]`; `add_dci` reads them),
    `table.md` and the NMI heatmap of each model's first seed (`nmi_<model>.png`) there."""
    for model in setting.models:  # before any training
        require_known(model)
    dataset = data.get(setting.dataset)
    images, factors = data.sample(dataset, jax.random.PRNGKey(2023), setting.num_eval_samples)
    images, factors = jnp.asarray(images), np.asarray(factors)
    out = None if out is None else pathlib.Path(out)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    rows, wall = [], {}
    for model in setting.models:
        start = time.perf_counter()
        population, pop = train(model, setting, log=log)
        trained = time.perf_counter()
        scored_rows, scored_codes = score(model, population, pop, images, factors, setting)
        rows += scored_rows
        wall[model] = {"train": trained - start, "score": time.perf_counter() - trained}
        log(f"{model}: trained {wall[model]['train']:.1f} s, scored {wall[model]['score']:.1f} s")
        result = {
            "setting": dataclasses.asdict(setting),
            "backend": jax.devices()[0].device_kind,
            "rows": rows,
            "table": table(rows),
            "wall_s": wall,
        }
        if out is not None:
            np.savez_compressed(
                out / f"codes_{model}.npz",
                codes=scored_codes,
                seeds=np.asarray(setting.seeds),
                factors=factors,
            )
            (out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    if out is not None:
        (out / "table.md").write_text(markdown(result["table"]) + "\n")
        for model in setting.models:  # the NMI heatmap of each model's first seed
            nmi = next(r["nmi"] for r in rows if r["model"] == model)
            heatmap = viz.nmi_heatmap(np.asarray(nmi), list(dataset.factor_names))
            viz.save_png(out / f"nmi_{model}.png", heatmap)
    return result


def table(rows) -> dict:
    """{model: {metric: (mean, 95 % half-width, n)}} over the seeds of each model."""
    out = {}
    for model in dict.fromkeys(r["model"] for r in rows):
        values = [r for r in rows if r["model"] == model]
        out[model] = {}
        for column in COLUMNS:
            if column in values[0]:
                mean, half = t_interval([r[column] for r in values])
                out[model][column] = (float(mean), float(half), len(values))
    return out


def markdown(summary: dict) -> str:
    """The table as markdown: one row per model, `mean ± half-width` per metric."""
    columns = [c for c in COLUMNS if any(c in v for v in summary.values())]
    lines = [
        "| model | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for model, values in summary.items():
        cells = [
            format_interval(*values[c][:2], digits=1 if c == "psnr" else 2) if c in values else ""
            for c in columns
        ]
        lines.append(f"| {LABELS.get(model, model)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="cpu")
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--add-dci",
        action="store_true",
        help="train nothing: score DCI from the codes of the finished run in --out",
    )
    parser.add_argument("--models", help="comma-separated subset of the setting's models")
    parser.add_argument("--steps", type=int, help="override the setting's number of steps")
    parser.add_argument("--variant", help="override the setting's network size: _tiny, _16px")
    parser.add_argument("--dataset", help="override the setting's dataset")
    parser.add_argument("--eval-samples", type=int, help="override the number of scored images")
    parser.add_argument(
        "--weight-decay-scale",
        type=float,
        help="one weight decay factor for every model (default: the setting's)",
    )
    args = parser.parse_args(argv)
    if args.add_dci:
        print(markdown(add_dci(args.out)["table"]))
        return
    setting = SETTINGS[args.setting]
    if args.models:
        setting = dataclasses.replace(setting, models=tuple(args.models.split(",")))
    if args.steps:
        setting = dataclasses.replace(setting, num_steps=args.steps)
    if args.variant:
        setting = dataclasses.replace(setting, variant=args.variant)
    if args.dataset:
        setting = dataclasses.replace(setting, dataset=args.dataset)
    if args.eval_samples:
        setting = dataclasses.replace(setting, num_eval_samples=args.eval_samples)
    if args.weight_decay_scale is not None:
        setting = dataclasses.replace(
            setting, weight_decay_scale=args.weight_decay_scale, model_weight_decay_scales=()
        )
    result = run(setting, args.out)
    print(markdown(result["table"]))


if __name__ == "__main__":
    try:
        main()
    except UserError as error:
        sys.exit(f"run.py: error: {error}")
