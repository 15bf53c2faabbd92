"""Train steps: one optimizer update (or a multi-player schedule), skipped when non-finite."""

import jax
import jax.numpy as jnp
import optax

from disentax.objectives.players import MultiPlayer
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


def multi_player_step(state: TrainState, batch, *, loss_fn, objective: MultiPlayer):
    """One step of a `MultiPlayer` objective: its `schedule` of updates, all in this one call.

    `loss_fn(params, batch, rng, *, step) -> ({player: loss}, metrics)` has its model and
    hyperparameters bound; `state` holds `{player: ...}` params, optimizer states and
    transformations. Update i reads batch `objective.batch_index[i]` of a batch stacked on a
    leading axis of `objective.batches_per_step` (the batch itself when that is 1) and the RNG
    `fold_in(rng, step)` (further folded with i when the schedule has several updates); each of
    its players takes θ_p ← θ_p − update_p(∇θ_p loss_p), all gradients at the params before the
    update. A "step" is one pass through the schedule: for FactorVAE one VAE update and one
    discriminator update on the same batch (disentanglement_lib's grouped train ops, which count
    as 2 of its global steps), step ← step + 1. If any loss, metric or gradient norm is NaN/Inf the
    state is returned unchanged (all players). Returns the metrics of each player's last update
    (later updates overwrite equal names) plus `grad_norm/<player>`.
    """
    rng = jax.random.fold_in(state.rng, state.step)
    params, opt_state, metrics = dict(state.params), dict(state.opt_state), {}
    for i, players in enumerate(objective.schedule):
        if objective.batches_per_step == 1:
            update_batch = batch
        else:
            update_batch = jax.tree.map(lambda x, i=i: x[objective.batch_index[i]], batch)
        update_rng = rng if len(objective.schedule) == 1 else jax.random.fold_in(rng, i)
        grads = {}
        for player in players:

            def player_loss(theta, player=player, update_batch=update_batch, update_rng=update_rng):
                losses, player_metrics = loss_fn(
                    {**params, player: theta}, update_batch, update_rng, step=state.step
                )
                return losses[player], player_metrics

            grad_fn = jax.value_and_grad(player_loss, has_aux=True)
            (_, player_metrics), grads[player] = grad_fn(params[player])
            metrics.update(player_metrics)
            metrics[f"grad_norm/{player}"] = optax.tree.norm(grads[player])
        for player in players:
            updates, opt_state[player] = state.tx[player].update(
                grads[player], opt_state[player], params[player]
            )
            params[player] = optax.apply_updates(params[player], updates)
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(v)) for v in metrics.values()]))
    new = state.replace(step=state.step + 1, params=params, opt_state=opt_state)
    return jax.tree.map(lambda n, o: jnp.where(finite, n, o), new, state), metrics
