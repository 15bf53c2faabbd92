"""One prepared accelerator run: step throughput, a vmapped population, metrics, fraction of peak.

Measures on the first device: the β-VAE train step (disentanglement_lib architecture) at batch 64,
256 and 1024 in both transposed-convolution formulations; a population of 8 and 32 members
trained by one `jax.vmap`ped step (each member its own params, optimizer state, RNG and batch);
MIG on 10,000 points and vmapped over 50 models. Prints images/s with the fraction of the card's
fp32 and bf16 dense peak, and ends with one JSON line (also written to --out). Meant to finish
in well under 5 minutes on one H100/H200.

    python experiments/benchmarks/gpu.py
"""

import argparse
import functools
import time

import jax
import jax.numpy as jnp
from common import add_out_argument, beta_vae_run, write_result

from disentax import metrics
from disentax.train import TrainState, train_step

FLOPS_PER_IMAGE = 83_407_872  # counted from the layer shapes in train_step.py
# Dense peaks in FLOP/s (vendor data sheets, SXM parts): (fp32 non-tensor, bf16 tensor).
PEAKS = {"H100": (67e12, 989e12), "H200": (67e12, 989e12), "A100": (19.5e12, 312e12)}


def peak(kind: str) -> tuple[float, float] | None:
    return next((v for k, v in PEAKS.items() if k in kind), None)


def timed(fn, *args, repeats: int = 10) -> float:
    """Seconds per call after one compile-and-warm call; best of 3 rounds of `repeats` calls."""
    jax.block_until_ready(fn(*args))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            out = fn(*args)
        jax.block_until_ready(out)
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def single_model(batch_size: int, transposed_conv: str) -> float:
    run = beta_vae_run(batch_size, transposed_conv)
    state, batch = run.init_state(), run.batch_fn(0)
    step = jax.jit(functools.partial(train_step, loss_fn=run.loss_fn))
    return batch_size / timed(lambda s: step(s, batch)[0], state)


def population(members: int, batch_size: int) -> float:
    """Images/s of all members together, one vmapped step over stacked states and batches."""
    run = beta_vae_run(batch_size, "subpixel")
    states = jax.jit(jax.vmap(functools.partial(init_state, run)))(jnp.arange(members))
    ds = run.dataset

    def batch(key):
        return {"image": ds.observations_from_factors(ds.sample_factors(key, batch_size), key)}

    batches = jax.jit(jax.vmap(batch))(jax.random.split(jax.random.PRNGKey(0), members))
    step = jax.jit(jax.vmap(functools.partial(train_step, loss_fn=run.loss_fn)))
    return members * batch_size / timed(lambda s: step(s, batches)[0], states)


def init_state(run, seed):
    """A member's fresh state from its own seed (traceable, so members init under vmap)."""
    root = jax.random.PRNGKey(seed)
    x = jnp.zeros((1, *run.dataset.observation_shape))
    params = run.model.init({"params": jax.random.fold_in(root, 0)}, x)["params"]
    return TrainState.create(params, run.tx, jax.random.fold_in(root, 1))


def mig_timings() -> dict[str, float]:
    key = jax.random.PRNGKey(0)
    factors = jax.random.randint(key, (10_000, 5), 0, 10)
    codes = factors[:, jnp.array([0, 1, 2, 3, 4, 0, 1, 2, 3, 4])] + jax.random.normal(
        key, (10_000, 10)
    )
    one = jax.jit(metrics.mig)
    many = jax.jit(jax.vmap(metrics.mig))
    codes_50 = jnp.stack([codes + 0.01 * i for i in range(50)])
    factors_50 = jnp.broadcast_to(factors, (50, *factors.shape))
    return {
        "mig_10k_s": timed(one, codes, factors, repeats=3),
        "mig_10k_x50_vmapped_s": timed(many, codes_50, factors_50, repeats=3),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--members", type=int, nargs="+", default=[8, 32])
    add_out_argument(parser, "gpu")
    args = parser.parse_args()
    kind = jax.devices()[0].device_kind
    result = {"device": kind, "backend": jax.default_backend(), "jax": jax.__version__}
    peaks = peak(kind)

    def report(name: str, images_per_s: float) -> None:
        result[f"images_per_s_{name}"] = images_per_s
        flops = images_per_s * FLOPS_PER_IMAGE
        line = f"{name:28s} {images_per_s:10.0f} images/s {flops / 1e12:7.2f} TFLOP/s"
        if peaks:
            result[f"fraction_fp32_peak_{name}"] = flops / peaks[0]
            result[f"fraction_bf16_peak_{name}"] = flops / peaks[1]
            line += (
                f"  {100 * flops / peaks[0]:5.1f} % fp32 peak  {100 * flops / peaks[1]:5.2f} % bf16"
            )
        print(line, flush=True)

    for b in args.batches:
        for conv in ("subpixel", "lax"):
            report(f"b{b}_{conv}", single_model(b, conv))
    for members in args.members:
        report(f"population{members}_b{args.batches[0]}", population(members, args.batches[0]))
    result.update(mig_timings())
    print(
        f"MIG on 10,000 points: {result['mig_10k_s'] * 1e3:.1f} ms; vmapped over 50 models: "
        f"{result['mig_10k_x50_vmapped_s'] * 1e3:.1f} ms",
        flush=True,
    )
    write_result(args.out, result)


if __name__ == "__main__":
    main()
