"""Populations: images/s per member of M β-VAEs trained as one population vs M separate runs.

In one process, on the default backend: (a) M single-model runs stepped one after the other
(`build(config).step_fn`, each its own compiled step, as M separate runs would be), (b) the
population with `strategy="loop"` (the single-member step on each member in turn, `lax.map`
in one compiled program), (c) `strategy="vmap"`
(one vmapped step for all members). Also times `score_population` (the suite metrics of M
models in one vmapped call) against M calls of `score`. Prints a table and, as its last line,
one JSON object (also written to --out).

    python experiments/benchmarks/population.py [--members 8] [--batch 64] [--steps 10]
"""

import argparse
import time

import jax
import numpy as np
from common import DLIB_BETA_VAE, add_out_argument, write_result

from disentax import config as config_lib
from disentax.metrics import suite
from disentax.train import build
from disentax.train.population import Population


def member_configs(members: int, batch_size: int):
    configs = config_lib.expand_sweep(config_lib.load_config(DLIB_BETA_VAE), f"seed=0:{members}")
    for i, c in enumerate(configs):
        c.batch_size = batch_size
        c.objective.beta = float(1 + i % 4)
    return configs


def separate_runs(configs, steps: int) -> float:
    """Seconds for `steps` steps of every member as its own run (compiled beforehand)."""
    runs = [build(c) for c in configs]
    states = [r.init_state() for r in runs]
    for i, r in enumerate(runs):
        states[i], _ = r.step_fn(states[i], r.batch_fn(0))
    jax.block_until_ready(states)
    start = time.perf_counter()
    for k in range(1, steps + 1):
        for i, r in enumerate(runs):
            states[i], _ = r.step_fn(states[i], r.batch_fn(k))
    jax.block_until_ready(states)
    return time.perf_counter() - start


def population_run(configs, steps: int, strategy: str) -> float:
    population = Population.create(configs, strategy)
    pop = population.init_state()
    pop, _ = population.step_fn(pop, population.batch_fn(0))
    jax.block_until_ready(pop)
    start = time.perf_counter()
    for k in range(1, steps + 1):
        pop, _ = population.step_fn(pop, population.batch_fn(k))
    jax.block_until_ready(pop)
    return time.perf_counter() - start


def metric_calls(members: int, samples: int, repeats: int = 3) -> tuple[float, float]:
    """Median seconds of one `score_population` call and of `members` `score` calls (compiled)."""
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 10, (samples, 5)).astype(np.int32)
    codes = (factors @ rng.normal(size=(5, 10)) + rng.normal(size=(members, samples, 10))).astype(
        np.float32
    )
    names = "mig,modularity,irs,unsupervised"

    def together():
        return suite.score_population(names, codes=codes, factors=factors)

    def apart():
        return [suite.score(names, codes=c, factors=factors) for c in codes]

    timings = []
    for fn in (together, apart):
        fn()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        timings.append(float(np.median(times)))
    return timings[0], timings[1]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--members", type=int, default=8)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--metric-members", type=int, default=50)
    p.add_argument("--metric-samples", type=int, default=10_000)
    add_out_argument(p, "population")
    args = p.parse_args()
    configs = member_configs(args.members, args.batch)
    images = args.members * args.batch * args.steps
    seconds = {
        "separate": separate_runs(configs, args.steps),
        "loop": population_run(configs, args.steps, "loop"),
        "vmap": population_run(configs, args.steps, "vmap"),
    }
    per_member = {k: images / v / args.members for k, v in seconds.items()}
    print(f"backend {jax.default_backend()}, {args.members} members, batch {args.batch}")
    for k, v in per_member.items():
        print(f"  {k:<9} {v:9.1f} images/s per member  ({v / per_member['separate']:.2f}x)")
    together, apart = metric_calls(args.metric_members, args.metric_samples)
    print(
        f"metrics of {args.metric_members} models on {args.metric_samples} samples: one vmapped "
        f"call {together:.2f} s, {args.metric_members} calls {apart:.2f} s "
        f"({apart / together:.1f}x)"
    )
    write_result(
        args.out,
        {
            "backend": jax.default_backend(),
            "members": args.members,
            "batch": args.batch,
            "steps": args.steps,
            **{f"images_per_s_per_member_{k}": v for k, v in per_member.items()},
            "ratio_loop_vs_separate": per_member["loop"] / per_member["separate"],
            "ratio_vmap_vs_separate": per_member["vmap"] / per_member["separate"],
            "metric_members": args.metric_members,
            "metric_seconds_vmapped": together,
            "metric_seconds_sequential": apart,
            "metric_ratio": apart / together,
        },
    )


if __name__ == "__main__":
    main()
