"""End-of-run evaluation: held-out losses, MIG of the mean representation, and pictures."""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

from disentax import data, metrics, viz
from disentax.train.build import Run
from disentax.train.state import TrainState


def representation(run: Run, params, key: jax.Array, num_samples: int, batch_size: int):
    """Mean representation mu(x) of `num_samples` images: codes `[N, L]`, factors `[N, K]`."""
    encode = jax.jit(lambda p, x: run.model.apply({"params": p}, x, method=run.model.encode)[0])
    codes, factors = [], []
    for i in range(-(-num_samples // batch_size)):
        x, f = data.sample(run.dataset, jax.random.fold_in(key, i), batch_size)
        codes.append(encode(params, x))
        factors.append(f)
    return np.concatenate(codes)[:num_samples], np.concatenate(factors)[:num_samples]


def held_out_losses(run: Run, params, key: jax.Array, num_batches: int = 4) -> dict[str, float]:
    """The objective's metrics averaged over `num_batches` fresh batches of the train batch size."""
    losses = jax.jit(lambda p, batch, rng: run.loss_fn(p, batch, rng, step=0)[1])
    values = []
    for i in range(num_batches):
        data_key, loss_key = jax.random.split(jax.random.fold_in(key, i))
        x, f = data.sample(run.dataset, data_key, run.config.batch_size)
        values.append(losses(params, {"image": x, "factors": f}, loss_key))
    values = jax.device_get(values)
    return {k: float(np.mean([v[k] for v in values])) for k in values[0]}


def pictures(run: Run, params, key: jax.Array, workdir: pathlib.Path) -> None:
    """`reconstructions.png` (originals over reconstructions) and `traversals.png` (row l sweeps
    z_l over `linspace(-r, r, steps)` from the first image's mean code)."""
    ev = run.config.eval
    x, _ = data.sample(run.dataset, key, ev.num_images)
    apply = jax.jit(lambda p, x: run.model.apply({"params": p}, x))
    decode = jax.jit(lambda p, z: run.model.apply({"params": p}, z, method=run.model.decode))
    logits, aux = apply(params, x)
    viz.save_png(
        workdir / "reconstructions.png",
        viz.reconstruction_grid(np.asarray(x), np.asarray(jax.nn.sigmoid(logits))),
    )
    num_latents = aux["mu"].shape[-1]
    values = jnp.linspace(-ev.traversal_range, ev.traversal_range, ev.traversal_steps)
    z = jnp.tile(aux["mu"][0], (num_latents, ev.traversal_steps, 1))
    z = z.at[jnp.arange(num_latents), :, jnp.arange(num_latents)].set(values)
    images = jax.nn.sigmoid(decode(params, z.reshape(-1, num_latents)))
    grid = np.asarray(images).reshape(num_latents, ev.traversal_steps, *images.shape[1:])
    viz.save_png(workdir / "traversals.png", viz.image_grid(grid))


def evaluate(
    run: Run,
    state: TrainState,
    workdir: pathlib.Path,
    train_metrics: dict[str, float] | None = None,
) -> dict[str, float]:
    """Writes `metrics.json` (final train losses, `eval/` losses, MIG, modularity, IRS and the
    unsupervised scores of the mean representation) and the pictures."""
    ev = run.config.eval
    params = state.params
    keys = [jax.random.fold_in(run.keys.eval, i) for i in range(3)]
    codes, factors = representation(run, params, keys[0], ev.num_samples, ev.batch_size)
    results = {"step": int(state.step), **(train_metrics or {})}
    results.update({f"eval/{k}": v for k, v in held_out_losses(run, params, keys[1]).items()})
    codes, factors = jnp.asarray(codes), jnp.asarray(factors)
    scores = {
        **metrics.mig(codes, factors, num_bins=ev.num_bins),
        **metrics.modularity(codes, factors, num_bins=ev.num_bins),
        **metrics.irs(codes, factors, num_bins=ev.num_bins),
        **metrics.unsupervised(codes, num_bins=ev.num_bins),
    }
    results.update({f"eval/{k}": float(v) for k, v in scores.items()})
    if jax.process_index() == 0:
        pictures(run, params, keys[2], workdir)
        (workdir / "metrics.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return results
