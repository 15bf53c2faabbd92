"""End-of-run evaluation: held-out losses, MIG of the mean representation, and pictures."""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

from disentax import metrics, viz
from disentax.train.build import Run
from disentax.train.state import TrainState


def representation(run: Run, params, key: jax.Array, num_samples: int, batch_size: int):
    """Mean representation mu(x) of `num_samples` images: codes `[N, L]`, factors `[N, K]`."""

    @jax.jit
    def encode(params, step):
        factor_key, nuisance_key = jax.random.split(jax.random.fold_in(key, step))
        factors = run.dataset.sample_factors(factor_key, batch_size)
        x = run.dataset.observations_from_factors(factors, nuisance_key)
        mu, _ = run.model.apply({"params": params}, x, method=run.model.encode)
        return mu, factors

    num_batches = -(-num_samples // batch_size)
    codes, factors = zip(*(encode(params, i) for i in range(num_batches)), strict=True)
    return (np.concatenate(codes)[:num_samples], np.concatenate(factors)[:num_samples])


def held_out_losses(run: Run, params, key: jax.Array, num_batches: int = 4) -> dict[str, float]:
    """The objective's metrics averaged over `num_batches` fresh batches of the train batch size."""

    @jax.jit
    def losses(params, i):
        factor_key, nuisance_key, loss_key = jax.random.split(jax.random.fold_in(key, i), 3)
        factors = run.dataset.sample_factors(factor_key, run.config.batch_size)
        batch = {
            "image": run.dataset.observations_from_factors(factors, nuisance_key),
            "factors": factors,
        }
        return run.loss_fn(params, batch, loss_key, step=0)[1]

    values = jax.device_get([losses(params, i) for i in range(num_batches)])
    return {k: float(np.mean([v[k] for v in values])) for k in values[0]}


def pictures(run: Run, params, key: jax.Array, workdir: pathlib.Path) -> None:
    """`reconstructions.png` (originals over reconstructions) and `traversals.png` (row l sweeps
    z_l over `linspace(-r, r, steps)` from the first image's mean code)."""
    ev = run.config.eval
    factor_key, nuisance_key = jax.random.split(key)
    factors = run.dataset.sample_factors(factor_key, ev.num_images)
    x = run.dataset.observations_from_factors(factors, nuisance_key)
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
    viz.save_png(
        workdir / "traversals.png",
        viz.image_grid(
            np.asarray(images).reshape(num_latents, ev.traversal_steps, *images.shape[1:])
        ),
    )


def evaluate(
    run: Run,
    state: TrainState,
    workdir: pathlib.Path,
    train_metrics: dict[str, float] | None = None,
) -> dict[str, float]:
    """Writes `metrics.json` (final train losses, `eval/` losses, `eval/mig`) and pictures."""
    ev = run.config.eval
    params = state.params
    keys = [jax.random.fold_in(run.keys.eval, i) for i in range(3)]
    codes, factors = representation(run, params, keys[0], ev.num_samples, ev.batch_size)
    results = {"step": int(state.step), **(train_metrics or {})}
    results.update({f"eval/{k}": v for k, v in held_out_losses(run, params, keys[1]).items()})
    mig = metrics.mig(jnp.asarray(codes), jnp.asarray(factors), num_bins=ev.num_bins)
    results.update({f"eval/{k}": float(v) for k, v in mig.items()})
    if jax.process_index() == 0:
        pictures(run, params, keys[2], workdir)
        (workdir / "metrics.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return results
