"""The train step: one optimizer update from one batch, skipped when anything is non-finite."""

import jax
import jax.numpy as jnp
import optax

from disentax.train.state import TrainState


def train_step(state: TrainState, batch, *, loss_fn) -> tuple[TrainState, dict]:
    """θ ← θ − update(∇θ loss_fn(θ, batch, fold_in(rng, step))), step ← step + 1.

    `loss_fn(params, batch, rng, *, step) -> (loss, metrics)` has its model and hyperparameters
    bound. If the loss, any metric or the gradient norm is NaN/Inf the state is returned
    unchanged, so the caller, which sees the non-finite metric, still holds the last good state.
    Returns the metrics plus `grad_norm`.
    """
    rng = jax.random.fold_in(state.rng, state.step)
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
    (_, metrics), grads = grad_fn(state.params, batch, rng, step=state.step)
    updates, opt_state = state.tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    metrics = {**metrics, "grad_norm": optax.tree.norm(grads)}
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(v)) for v in metrics.values()]))
    new = state.replace(step=state.step + 1, params=params, opt_state=opt_state)
    return jax.tree.map(lambda n, o: jnp.where(finite, n, o), new, state), metrics
