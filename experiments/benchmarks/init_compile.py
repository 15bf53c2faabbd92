"""Compile time of parameter initialisation under JAX's two threefry implementations

`jax_threefry_partitionable` (JAX's default since 0.5) generates random bits from a counter of
the full output shape, so a sharded array's bits do not depend on its sharding; the classic
implementation splits the key per array. Both draw different numbers. This times, each setting in
a fresh process (the flag is read at trace time), the XLA:CPU compilation of:
- `random_normals`: one jitted program drawing 20 normal arrays of distinct shapes;
- `population_init`: the vmapped `init_member` of a population of `--members` β-VAEs
  (disentanglement_lib's conv network, `beta_vae:full`), as `disentax.train.population` runs it;
- `unet_init`: the jitted `init` of the diffusion core's tiny UNet.
Prints seconds and the ratio partitionable / classic; ends with one JSON line (also --out).
"""

import argparse
import json
import subprocess
import sys
import time

from common import add_out_argument, write_result

CASES = ("random_normals", "population_init", "unet_init")


def time_case(case: str, members: int) -> float:
    """Seconds to lower and compile `case` in this process."""
    import jax
    import jax.numpy as jnp

    key = jax.random.key(0)
    if case == "random_normals":

        def fn(k):
            keys = jax.random.split(k, 20)
            return [jax.random.normal(keys[i], (3, 3, 8, 8 + i)) for i in range(20)]

        args = (key,)
    elif case == "population_init":
        from disentax import config as config_lib
        from disentax.train import build

        run = build(config_lib.load_config("beta_vae:full"))
        keys = jax.random.split(key, (2, members))
        fn, args = jax.vmap(run.init_member), (keys[0], keys[1])
    else:
        from disentax.diffusion import denoisers

        model = denoisers.UNet.tiny()
        fn, args = model.init, (key, jnp.zeros((2, 8, 8, 3)), jnp.zeros(2, jnp.int32))
    start = time.perf_counter()
    jax.jit(fn).lower(*args).compile()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument(
        "--child", nargs=2, metavar=("CASE", "PARTITIONABLE"), help=argparse.SUPPRESS
    )
    add_out_argument(parser, "init_compile")
    args = parser.parse_args()
    if args.child:
        import jax

        jax.config.update("jax_threefry_partitionable", args.child[1] == "1")
        print(json.dumps(time_case(args.child[0], args.members)))
        return
    result = {"members": args.members}
    for case in CASES:
        seconds = {}
        for flag in ("1", "0"):
            out = subprocess.run(
                [sys.executable, __file__, "--members", str(args.members), "--child", case, flag],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            seconds[flag] = json.loads(out.stdout.strip().splitlines()[-1])
        result[f"{case}_s_partitionable"], result[f"{case}_s_classic"] = seconds["1"], seconds["0"]
        result[f"{case}_ratio"] = seconds["1"] / seconds["0"]
        print(f"{case:16s} partitionable {seconds['1']:6.1f} s  classic {seconds['0']:6.1f} s  "
              f"ratio {seconds['1'] / seconds['0']:.1f}")  # fmt: skip
    write_result(args.out, result)


if __name__ == "__main__":
    main()
