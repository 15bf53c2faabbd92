"""Rendering throughput of every procedural dataset and of the stored path, against the train step.

For each registered procedural dataset: images/s of its jitted renderer at batch 256 (best of 3).
For the stored path: a small stored copy of `dsprites_procedural` is built in a temporary
directory and `stored_batches` is timed. The β-VAE train step's images/s at batch 64 is measured
in the same process, and the ratio pipeline / step is printed (the goal: ≥ 20×). Last line: JSON.

    python experiments/benchmarks/data_pipeline.py
"""

import argparse
import tempfile
import time

import jax
from common import DLIB_BETA_VAE, add_out_argument, write_result

from disentax import config as config_lib
from disentax import data
from disentax.data import catalog


def best_rate(fn, n: int, repeats: int = 3) -> float:
    jax.block_until_ready(fn(0))
    best = float("inf")
    for r in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(r + 1))
        best = min(best, time.perf_counter() - start)
    return n / best


def renderer_rate(name: str, batch: int) -> float:
    dataset = data.get(name)
    batches = data.procedural_batches(dataset, batch, jax.random.PRNGKey(0))
    return best_rate(batches, batch)


def stored_rate(batch: int, limit: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        catalog.build("dsprites_procedural", data_dir=tmp, limit=limit)
        dataset = catalog.load("dsprites_procedural", data_dir=tmp)
        batches = data.stored_batches(dataset, batch, seed=0)
        return best_rate(batches, batch), dataset.nbytes / dataset.num_examples


def step_rate(batch: int) -> float:
    from disentax.train import build

    config = config_lib.load_config(DLIB_BETA_VAE)
    config.batch_size = batch
    run = build(config)
    state = [run.init_state()]
    batch_data = run.batch_fn(0)

    def step(_):
        state[0], metrics = run.step_fn(state[0], batch_data)
        return metrics

    return best_rate(step, batch)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--stored-limit", type=int, default=8)
    add_out_argument(parser, "data_pipeline")
    args = parser.parse_args()
    result = {"device": jax.devices()[0].device_kind, "batch": args.batch}
    step = step_rate(64)
    result["train_step_images_per_s_b64"] = step
    print(f"{'train step (beta_vae, batch 64)':40s} {step:10.0f} images/s")
    names = [n for n in data.DATASETS.names() if n not in catalog.SPECS]
    for name in names:
        rate = renderer_rate(name, args.batch)
        result[f"images_per_s_{name}"] = rate
        print(f"{name:40s} {rate:10.0f} images/s  {rate / step:6.1f}x the step")
    rate, bytes_per_image = stored_rate(args.batch, args.stored_limit)
    result["images_per_s_stored_dsprites_procedural"] = rate
    result["stored_bytes_per_image"] = bytes_per_image
    print(
        f"{'stored path (dsprites, packed bits)':40s} {rate:10.0f} images/s  "
        f"{rate / step:6.1f}x the step"
    )
    write_result(args.out, result)


if __name__ == "__main__":
    main()
