"""The first run: `disentax train` with its default config, timed whole, for seeds 0, 1, 2.

Each seed runs the CLI in a fresh process and a fresh workdir (`--config.seed=S`), so the wall
time counts everything a user waits for: start-up, compilation, training, the final evaluation
(the config's `eval.metrics` on `eval.num_samples` points of the mean and the sampled
representation), the figures and the report. Prints per seed the wall time, the MIG of both
representations and the machine's load average, then mean ± sd, and, as its last line, one JSON
object (also written to --out; `results/default_run.json` is committed).

    python experiments/benchmarks/default_run.py [--seeds 0,1,2] [--keep DIR]
"""

import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import jax
from common import add_out_argument, write_result

from disentax import config as config_lib

MIG_KEYS = {"mig": "eval/mig", "sampled_mig": "eval/sampled/mig"}


def load_average() -> float:
    return os.getloadavg()[0]


def train_once(seed: int, workdir: pathlib.Path) -> dict:
    """Runs `disentax train --config.seed=SEED` in `workdir`: its wall time, MIGs and load."""
    command = ["disentax", "train", "--workdir", str(workdir), "--no-progress"]
    command.append(f"--config.seed={seed}")
    load_before = load_average()
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    metrics = json.loads((workdir / "metrics.json").read_text())
    row = {"seed": seed, "wall_s": round(wall, 1)}
    row.update({k: metrics[v] for k, v in MIG_KEYS.items()})
    row.update(load_before=load_before, load_after=load_average(), steps=metrics["step"])
    return row


def mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--keep", type=pathlib.Path, help="keep the workdirs under this folder")
    add_out_argument(parser, "default_run")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]

    root = args.keep or pathlib.Path(tempfile.mkdtemp(prefix="default_run_"))
    rows = []
    print(f"{'seed':>4} {'wall (s)':>9} {'MIG mean':>9} {'MIG sampled':>12} {'load':>10}")
    try:
        for seed in seeds:
            workdir = root / f"seed_{seed}"
            if workdir.exists():
                shutil.rmtree(workdir)
            row = train_once(seed, workdir)
            rows.append(row)
            load = f"{row['load_before']:.1f}–{row['load_after']:.1f}"
            print(
                f"{seed:>4} {row['wall_s']:>9.1f} {row['mig']:>9.3f} {row['sampled_mig']:>12.3f}"
                f" {load:>10}",
                flush=True,
            )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)

    summary = {}
    for key in ("wall_s", "mig", "sampled_mig"):
        mean, sd = mean_sd([r[key] for r in rows])
        summary[key] = {"mean": mean, "sd": sd}
    print(
        f"mean ± sd: wall {summary['wall_s']['mean']:.1f} ± {summary['wall_s']['sd']:.1f} s, "
        f"MIG {summary['mig']['mean']:.3f} ± {summary['mig']['sd']:.3f}, sampled "
        f"{summary['sampled_mig']['mean']:.3f} ± {summary['sampled_mig']['sd']:.3f}"
    )
    config = config_lib.load_config("beta_vae")
    result = {
        "backend": jax.default_backend(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "jax": jax.__version__,
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "config": json.loads(config.to_json()),
        "seeds": rows,
        "summary": summary,
    }
    write_result(args.out, result)


if __name__ == "__main__":
    main()
