"""Trains P34's runs of one setting through the training core and writes `results/<setting>.json`:
`python -m experiments.p34_tanglenas.main --setting cpu`.

The runs (`config.get_sweep`), one population per method in `--workdir/<method>` (resumable;
`disentax.train.sweep.train_population`, without `run_sweep`'s per-metric plots; the ground
truth in populations of `config.GT_CHUNK` members, `--workdir/fixed/chunk_<i>`, sharing their
compiled programs through XLA's persistent cache, `--workdir/xla_cache` unless one is set), timed
separately: the ground-truth table (every architecture alone × the ground-truth seeds), then
DARTS and DrNAS with weight superposition and the SPOS supernet, each over the search seeds.
The results file holds each method's config (its first member's), the seeds, per member every
`eval/` number and the final train metrics, the memory (parameter counts), the summary and
claims' outcomes (`claims.py`), package versions, the commit and the wall times; the figure
`results/<setting>.png` (`figures.py`).
"""

import json
import pathlib
import time

import jax

from disentax import config as config_lib
from disentax.train import build
from disentax.train.population import group
from disentax.train.sweep import train_population, write_results
from experiments import results
from experiments.p34_tanglenas import config as config_module
from experiments.p34_tanglenas import layers

METHODS = ("fixed", "darts", "drnas", "spos")


def memory(config) -> dict:
    """Parameter counts: the supernet's weights (one tensor per layer at the largest choice),
    the largest architecture built at its own sizes, and the architecture parameters."""
    run = build(config)
    params = jax.eval_shape(run.init_member, jax.random.PRNGKey(0), jax.random.PRNGKey(1)).params
    n = len(layers.architectures(config.model.num_layers))
    sizes = [layers.standalone_param_count(i, config.model.num_layers) for i in range(n)]
    arch = params.get("arch", {}) if isinstance(params, dict) else {}
    return {
        "supernet_weights": layers.param_count(params["model"] if arch else params),
        "largest_architecture": max(sizes),
        "smallest_architecture": min(sizes),
        "architecture_parameters": layers.param_count(arch),
        "num_architectures": n,
    }


def train_method(members, workdir: pathlib.Path, strategy: str, chunk: int) -> list[dict]:
    """Trains one method's members (one population structure) in `workdir`, as populations of at
    most `chunk` members (`workdir/chunk_<i>`, rows gathered into `workdir/results.json`)."""
    if len(group(members)) != 1:
        raise SystemExit(f"{workdir.name}: the runs do not form one population")
    if len(members) <= chunk:
        return train_population(members, workdir, strategy=strategy, progress=False)
    rows = []
    for i in range(0, len(members), chunk):
        part = workdir / f"chunk_{i // chunk:02d}"
        rows += train_population(members[i : i + chunk], part, strategy=strategy, progress=False)
    write_results(workdir, rows)
    return rows


def use_compilation_cache(workdir: pathlib.Path) -> None:
    """XLA's persistent compilation cache in `workdir/xla_cache` unless one is configured (the
    test suite's): the ground truth's populations compile the same programs."""
    if jax.config.jax_compilation_cache_dir is None:
        jax.config.update("jax_compilation_cache_dir", str(workdir / "xla_cache"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)


def collect(configs, rows) -> dict:
    """{"config": the first member's config, "members": [{"seed", "arch"?, eval/train numbers,
    alive}, ...]} for one method, in the sweep's order."""
    members = []
    for config, row in zip(configs, rows, strict=True):
        member = {"seed": config.seed}
        if config.method == "fixed":
            member["arch"] = config.objective.arch
        members.append({**member, **results.member_numbers(row)})
    return {"config": json.loads(config_lib.to_json(configs[0])), "members": members}


def main(argv=None) -> dict:
    parser = results.parser(__package__, __doc__, search_seeds=True)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="read a method's rows from a finished WORKDIR/<method>/results.json (run_sweep's)",
    )
    args = parser.parse_args(argv)
    workdir = results.workdir(args)
    configs = results.sweep_configs(args)
    use_compilation_cache(workdir)
    start = time.time()
    runs, wall = {}, {}
    for method in METHODS:
        members = [c for c in configs if c.method == method]
        t = time.time()
        stored = workdir / method / "results.json"
        if args.reuse and stored.is_file():
            rows, wall[method] = json.loads(stored.read_text()), None
            if [r["seed"] for r in rows] != [c.seed for c in members]:
                raise SystemExit(f"{stored} holds other members than the sweep's")
        else:
            chunk = config_module.GT_CHUNK[args.setting] if method == "fixed" else len(members)
            rows = train_method(members, workdir / method, args.strategy, chunk)
            wall[method] = round(time.time() - t, 1)
        runs[method] = collect(members, rows)
        print(f"{method}: {len(members)} runs, {wall[method]} s", flush=True)
    found = {
        "wall_s": round(time.time() - start, 1),
        "wall_s_per_method": wall,
        "rs_samples": config_module.RS_SAMPLES[args.setting],
        "memory": memory(next(c for c in configs if c.method == "darts")),
        "runs": runs,
    }
    return results.write(found, args, summarise=True)


if __name__ == "__main__":
    main()
