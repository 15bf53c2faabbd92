"""Steps/s of every model of the zoo at its experiment config's default batch on this machine.

For each configuration (disentanglement_lib's six unsupervised models, Ada-GVAE, the QLAE paper's
autoencoders and GANs), builds the full-size run, compiles its step, and times `--steps` steps.
Prints a table and, as its last line, one JSON object (also written to --out).

    python experiments/benchmarks/model_zoo.py [--steps 5] [--only qlae,beta_vae]
"""

import argparse
import time

import jax
from common import add_out_argument, write_result

from disentax import config as config_lib
from disentax.train import build

DLIB = "experiments.dlib_unsupervised.config"  # configs named as modules
WEAK = "experiments.dlib_weakly_supervised.config"
QLAE = "experiments.p02_qlae.config"
CONFIGS = {
    "beta_vae": f"{DLIB}:model=beta_vae",
    "annealed_vae": f"{DLIB}:model=annealed_vae",
    "factor_vae": f"{DLIB}:model=factor_vae",
    "dip_vae_i": f"{DLIB}:model=dip_vae_i",
    "dip_vae_ii": f"{DLIB}:model=dip_vae_ii",
    "beta_tc_vae": f"{DLIB}:model=beta_tc_vae",
    "ada_gvae": f"{WEAK}:model=ada_gvae",
    "qlae": f"{QLAE}:model=qlae",
    "qlae_vae": f"{QLAE}:model=vae",
    "qlae_vq_vae": f"{QLAE}:model=vq_vae",
    "qlae_bio_ae": f"{QLAE}:model=bio_ae",
    "ql_info_wgan": f"{QLAE}:model=ql_info_wgan",
}


def steps_per_s(spec: str, steps: int) -> tuple[float, int]:
    """(steps/s after compilation, batch size) of the run of `spec`."""
    run = build(config_lib.load_config(spec))
    state = run.init_state()
    state, _ = run.step_fn(state, run.batch_fn(0))
    jax.block_until_ready(state)
    start = time.perf_counter()
    for k in range(1, steps + 1):
        state, _ = run.step_fn(state, run.batch_fn(k))
    jax.block_until_ready(state)
    return steps / (time.perf_counter() - start), run.config.batch_size


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--only", help="comma-separated subset of: " + ", ".join(CONFIGS))
    add_out_argument(p, "model_zoo")
    args = p.parse_args()
    names = args.only.split(",") if args.only else list(CONFIGS)
    result = {"backend": jax.default_backend(), "steps": args.steps}
    print(f"{'model':<14} {'batch':>5} {'steps/s':>8} {'images/s':>9}")
    for name in names:
        rate, batch = steps_per_s(CONFIGS[name], args.steps)
        print(f"{name:<14} {batch:>5} {rate:>8.2f} {rate * batch:>9.1f}")
        result[f"steps_per_s_{name}"] = rate
        result[f"batch_{name}"] = batch
    write_result(args.out, result)


if __name__ == "__main__":
    main()
