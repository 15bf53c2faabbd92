"""Trains P39's runs of one setting through the training core and writes `results/<setting>.json`
and its figure: `python -m experiments.p39_mode_interpolation.main --setting cpu`.

1. The first runs (`config.get_sweep`): a DDPM on the 1-D {1, 2, 3} mixture, the 5×5 grid and
   its rotated control, each over the setting's seeds, trained as populations by
   `disentax.train.sweep.run_sweep` in `--workdir/first`; their scores (`task.py`) are the
   hallucination numbers of claims (1)–(3).
2. Recursive training (`recursion`): from each seed's grid model, `RECURSION[setting]["pool"]`
   samples (with their trajectory variance) are drawn and filtered to `keep` by each filter
   (lowest variance, or random); generation g + 1 is a fresh model trained on generation g's
   kept samples (`data.samples`), in `--workdir/gen<g>`, and so on for `generations`. Every
   model's pool is summarised (`hallucination.summary`): its hallucination rate and modes covered
   per generation are claim (4)'s numbers.

The results file holds the config of each run (seed 0's), the seeds, per seed every `eval/`
number and the final train metrics, the recursion's per-generation numbers, the claims'
outcomes (`claims.py`), package versions, the commit and the wall time.
"""

import time

import jax
import numpy as np

from disentax.train.sweep import restore_population, run_sweep
from experiments import results
from experiments.p39_mode_interpolation import config as config_module
from experiments.p39_mode_interpolation import hallucination

EXAMPLE = 1500  # samples of seed 0's first grid model kept in the results for the figure
POOL_SEED = 39  # the pools' sampling keys: fold_in(fold_in(PRNGKey(POOL_SEED), generation), seed)


def run_name(config) -> str:
    """line, grid, rotated; the recursive runs <filter>_gen<g> (e.g. variance_gen2)."""
    r = config.recursion
    return f"{r.filter}_gen{r.generation}" if r.filter else config.data.kind


def members(workdir, num: int) -> list:
    """(task, params) of each of the `num` members trained in `workdir` (one population, or one
    per `group_<g>` subfolder in the sweep's order)."""
    if (workdir / "population.json").exists():
        population, pop = restore_population(workdir)
        return [(population.run, population.member(pop, m).params) for m in range(num)]
    found = []
    for g in range(num):
        if not (workdir / f"group_{g}").exists():
            break
        population, pop = restore_population(workdir / f"group_{g}")
        found += [
            (population.run, population.member(pop, m).params) for m in range(population.size)
        ]
    return found


def pool_and_keep(
    task, params, generation: int, how: str, sizes: dict, out
) -> tuple[dict, np.ndarray]:
    """Samples the pool of one model, writes the `keep` kept by filter `how` to `out` (.npy) and
    returns the pool's summary and the pool."""
    seed = task.config.seed
    key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(POOL_SEED), generation), seed)
    x, x0_hat = task.sample_with_x0(params, key, sizes["pool"])
    score = hallucination.trajectory_variance(x0_hat)
    rng = np.random.default_rng([POOL_SEED, generation, seed])
    kept = hallucination.keep(score, sizes["keep"], how, rng)
    np.save(out, x[kept].astype(np.float32))
    numbers = hallucination.summary(x, x0_hat, task.config.data.kind, task.config.data.std)
    kind, std = task.config.data.kind, task.config.data.std
    mu, sigma = hallucination.modes(kind, std), hallucination.noise_std(kind, std)
    numbers["kept_hallucination_rate"] = float(
        hallucination.hallucinated(x[kept], mu, sigma).mean()
    )
    return numbers, x


def recursion(args, first_configs) -> tuple[list, list, dict, dict]:
    """Claim (4)'s recursive training (module docstring): (configs, rows, per filter
    {"seeds", "per_seed": [{name: [value per generation 0..G]}]}, seed 0's first `EXAMPLE`
    grid samples for the figure)."""
    sizes = config_module.RECURSION[args.setting]
    base = results.workdir(args)
    grid = [i for i, c in enumerate(first_configs) if c.data.kind == "grid"]
    grid_members = members(base / "first", len(first_configs))
    seeds = [first_configs[i].seed for i in grid]
    track = {how: [{} for _ in seeds] for how in hallucination.FILTERS}
    previous = {how: [grid_members[i] for i in grid] for how in hallucination.FILTERS}
    configs, rows, example = [], [], {}
    (base / "samples").mkdir(parents=True, exist_ok=True)
    for g in range(sizes["generations"] + 1):
        paths = {}
        for how in hallucination.FILTERS:
            for s, (task, params) in enumerate(previous[how]):
                path = base / "samples" / f"gen{g}_{how}_seed{seeds[s]}.npy"
                numbers, x = pool_and_keep(task, params, g, how, sizes, path)
                if g == 0 and s == 0 and how == "variance":  # the figure's scatter
                    mu = hallucination.modes("grid")
                    sigma = hallucination.noise_std("grid", task.config.data.std)
                    x = x[:EXAMPLE]
                    flags = hallucination.hallucinated(x, mu, sigma)
                    example = {"samples": np.round(x, 4).tolist(), "hallucinated": flags.tolist()}
                for name, value in numbers.items():
                    track[how][s].setdefault(name, []).append(value)
                paths[how, s] = path
        if g == sizes["generations"]:
            break
        gen_configs = [
            config_module.get_config(
                f"kind=grid,seed={seed},samples={paths[how, s]},filter={how},"
                f"generation={g + 1},{args.setting}"
            )
            for how in hallucination.FILTERS
            for s, seed in enumerate(seeds)
        ]
        gen_rows = run_sweep(gen_configs, base / f"gen{g + 1}", progress=False)
        trained = members(base / f"gen{g + 1}", len(gen_configs))
        for i, how in enumerate(hallucination.FILTERS):
            previous[how] = trained[i * len(seeds) : (i + 1) * len(seeds)]
        configs += gen_configs
        rows += gen_rows
    return configs, rows, {h: {"seeds": seeds, "per_seed": track[h]} for h in track}, example


def main(argv=None) -> dict:
    args = results.parser(__package__, __doc__).parse_args(argv)
    configs = results.sweep_configs(args)
    start = time.time()
    rows = run_sweep(configs, results.workdir(args) / "first", progress=False)
    more_configs, more_rows, tracked, example = recursion(args, configs)
    out = {
        "wall_s": round(time.time() - start, 1),
        "runs": results.collect(configs + more_configs, rows + more_rows, run_name),
        "recursion": {"sizes": config_module.RECURSION[args.setting], **tracked},
        "example": example,
    }
    return results.write(out, args)


if __name__ == "__main__":
    main()
