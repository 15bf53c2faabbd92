"""Learning curves of the reduced-scale QLAE runs: InfoM, InfoE, PSNR and the NMI matrix of each
seed at several step counts, for diagnosing why a setting does or does not show the claim.

    python -m experiments.p02_qlae.curves --models qlae,ae --checkpoints 500,2000 --out runs/curves
    python -m experiments.p02_qlae.curves --dataset dsprites_procedural_16px --hold-decay-time \
        --checkpoints 500,1000 --out runs/curves_held   # weight decay: the paper's lr·λ·T at 1,000

Each model's seeds train as one population (`run.train`'s members, `run.member_config`'s
configs); at every checkpoint they are scored as `run.score` does (discrete estimators for
QLAE's quantized values).
"""

import argparse
import dataclasses
import json
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np

from disentax import data
from disentax.train.population import Population
from experiments.p02_qlae import run as runner


def curves(setting, checkpoints, *, log=print, save=None) -> list[dict]:
    """Rows {"model", "seed", "step", "train_s", infom, infoe, infoc, psnr, nmi, ...} of every
    model of `setting` at every step count in `checkpoints` (ascending); `save(rows)` is called
    after each checkpoint."""
    dataset = data.get(setting.dataset)
    images, factors = data.sample(dataset, jax.random.PRNGKey(2023), setting.num_eval_samples)
    images, factors = jnp.asarray(images), np.asarray(factors)
    rows = []
    for model in setting.models:
        last = max(checkpoints)
        population = Population.create(
            [
                runner.member_config(model, s, dataclasses.replace(setting, num_steps=last))
                for s in setting.seeds
            ]
        )
        pop, train_s, done = population.init_state(), 0.0, 0
        for checkpoint in checkpoints:
            start = time.perf_counter()
            for step in range(done, checkpoint):
                pop, _ = population.step_fn(pop, population.batch_fn(step))
            done = checkpoint
            pop = jax.block_until_ready(pop)
            train_s += time.perf_counter() - start
            scored, _ = runner.score(model, population, pop, images, factors, setting)
            for row in scored:
                rows.append({**row, "step": checkpoint, "train_s": train_s})
                log(
                    f"{model} seed {row['seed']} step {checkpoint}: infom {row['infom']:.3f} "
                    f"infoe {row['infoe']:.3f} psnr {row['psnr']:.2f} "
                    f"active {row['active_latents']} ({train_s:.0f} s)"
                )
            if save is not None:
                save(rows)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=sorted(runner.SETTINGS), default="test")
    parser.add_argument("--models", help="comma-separated models (default: the setting's)")
    parser.add_argument("--checkpoints", default="500,2000", help="comma-separated step counts")
    parser.add_argument("--variant", help="network size suffix: _tiny, _16px")
    parser.add_argument("--dataset", help="e.g. dsprites_procedural_16px")
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument(
        "--weight-decay-scale",
        type=float,
        help="factor on the config's weight decay (default: the setting's; with --hold-decay-time"
        " the paper's lr·λ·T at the last checkpoint)",
    )
    parser.add_argument("--hold-decay-time", action="store_true")
    parser.add_argument("--seeds", help="comma-separated seeds")
    parser.add_argument("--out", required=True, help="JSON file of the rows")
    args = parser.parse_args(argv)
    setting = runner.SETTINGS[args.setting]
    overrides = {
        "models": tuple(args.models.split(",")) if args.models else None,
        "variant": args.variant,
        "dataset": args.dataset,
        "learning_rate": args.learning_rate,
        "weight_decay_scale": args.weight_decay_scale,
        "seeds": tuple(int(s) for s in args.seeds.split(",")) if args.seeds else None,
    }
    setting = dataclasses.replace(setting, **{k: v for k, v in overrides.items() if v is not None})
    if args.hold_decay_time:
        setting = dataclasses.replace(setting, weight_decay_scale=None)
    checkpoints = sorted(int(c) for c in args.checkpoints.split(","))
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def save(rows):
        out.write_text(
            json.dumps({"setting": dataclasses.asdict(setting), "rows": rows}, indent=1) + "\n"
        )

    curves(setting, checkpoints, save=save)


if __name__ == "__main__":
    main()
