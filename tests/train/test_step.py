import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from disentax.models import MODELS
from disentax.objectives import beta_vae
from disentax.train import TrainState, train_step


def make_state():
    model = MODELS.get("tiny_conv_vae")(num_latents=3)
    x = (jax.random.uniform(jax.random.PRNGKey(1), (8, 64, 64, 1)) > 0.8).astype(jnp.float32)
    params = model.init(jax.random.PRNGKey(0), x)["params"]
    return model, TrainState.create(params, optax.adam(1e-3), jax.random.PRNGKey(3)), {"image": x}


def test_steps_reduce_the_loss_and_count():
    model, state, batch = make_state()
    step = jax.jit(functools.partial(train_step, loss_fn=functools.partial(beta_vae, model=model)))
    losses = []
    for _ in range(15):
        state, metrics = step(state, batch)
        losses.append(float(metrics["loss"]))
    assert int(state.step) == 15 and losses[-1] < losses[0]
    assert float(metrics["grad_norm"]) > 0


def test_step_rng_is_fold_in_of_step():
    _, state, batch = make_state()

    def loss_fn(params, batch, rng, *, step):
        return 0.0 * jax.tree.leaves(params)[0].sum(), {
            "loss": jnp.zeros(()),
            "u": jax.random.uniform(rng),
        }

    step = jax.jit(functools.partial(train_step, loss_fn=loss_fn))
    state, m0 = step(state, batch)
    _, m1 = step(state, batch)
    for k, m in enumerate((m0, m1)):
        assert m["u"] == jax.random.uniform(jax.random.fold_in(jax.random.PRNGKey(3), k))


def test_non_finite_step_leaves_the_state_unchanged():
    model, state, batch = make_state()

    def loss_fn(params, batch, rng, *, step):
        loss, metrics = beta_vae(params, batch, rng, model=model, step=step)
        bad_kl = metrics["loss/kl"] * jnp.where(step >= 1, jnp.nan, 1.0)
        return loss + bad_kl, {**metrics, "loss/kl": bad_kl}

    step = jax.jit(functools.partial(train_step, loss_fn=loss_fn))
    good, _ = step(state, batch)
    after, metrics = step(good, batch)
    assert np.isnan(metrics["loss/kl"])
    for got, want in zip(jax.tree.leaves(after), jax.tree.leaves(good), strict=True):
        np.testing.assert_array_equal(got, want)
