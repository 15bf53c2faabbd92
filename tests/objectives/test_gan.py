"""InfoWGAN-GP / QLInfoWGAN-GP against closed forms on tiny linear generator and critic."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from disentax.objectives.gan import (
    gradient_penalty,
    info_wgan_gp,
    info_wgan_gp_losses,
    ql_info_wgan_gp,
)
from disentax.train import TrainState
from disentax.train.step import multi_player_step

L, V, SHAPE = 2, 5, (4, 4, 1)


class Generator(nn.Module):
    """z -> logits, linear; with `num_values` it also holds the per-latent codebook."""

    num_values: int = 0

    def setup(self):
        self.dense = nn.Dense(int(np.prod(SHAPE)))
        if self.num_values:
            values = jnp.linspace(-0.5, 0.5, self.num_values)
            self.values = self.param("values", lambda _: jnp.tile(values, (L, 1)))

    def __call__(self, z):
        return self.dense(z).reshape(z.shape[0], *SHAPE)


class TinyGAN(nn.Module):
    """Linear generator; linear critic whose first output is v(x), the others the code."""

    num_values: int = 0

    def setup(self):
        self.generator = Generator(self.num_values)
        self.critic = nn.Dense(1 + L)

    def __call__(self, x):
        return self.generate(self.sample_latents(x.shape[0])), self.criticize(x)

    def sample_latents(self, n):
        key = self.make_rng("latent")
        if not self.num_values:
            return jax.random.uniform(key, (n, L))
        index = jax.random.randint(key, (n, L), 0, self.num_values)
        return self.generator.values[jnp.arange(L), index]

    def generate(self, z):
        return self.generator(z)

    def criticize(self, x):
        out = self.critic(x.reshape(x.shape[0], -1))
        value, z_c = out[:, 0], out[:, 1:]
        if not self.num_values:
            return value, {"z_hat": z_c}
        values = self.generator.values
        index = jnp.argmin(jnp.abs(z_c[:, :, None] - values[None]), axis=-1)
        z_q = values[jnp.arange(L), index]
        return value, {
            "z_hat": z_c + jax.lax.stop_gradient(z_q - z_c),
            "z_continuous": z_c,
            "z_quantized": z_q,
        }


def make(num_values=0):
    model = TinyGAN(num_values)
    x = jax.random.uniform(jax.random.PRNGKey(1), (6, *SHAPE))
    rngs = {"params": jax.random.PRNGKey(0), "latent": jax.random.PRNGKey(2)}
    return model, model.init(rngs, x)["params"], {"image": x}


def np_losses(params, x, z, weights):
    """The QLAE InfoGAN losses for a linear critic, in NumPy: ‖∇v‖ is the value kernel's norm."""
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), params)
    g, c = p["generator"], p["critic"]
    x_fake = 1 / (1 + np.exp(-(z @ g["dense"]["kernel"] + g["dense"]["bias"])))
    out_fake = x_fake @ c["kernel"] + c["bias"]
    value_real = np.asarray(x, np.float64).reshape(len(x), -1) @ c["kernel"][:, 0] + c["bias"][0]
    value_fake, z_c = out_fake[:, 0], out_fake[:, 1:]
    z_hat, code = z_c, 0.0
    if "values" in g:
        z_q = np.stack(
            [
                g["values"][j, np.argmin(np.abs(z_c[:, j : j + 1] - g["values"][j]), 1)]
                for j in range(L)
            ],
            axis=1,
        )
        z_hat = z_q
        code = (weights["q"] + weights["c"]) * np.mean((z_c - z_q) ** 2, axis=1)
    penalty = (np.linalg.norm(c["kernel"][:, 0]) - 1.0) ** 2
    latent = np.mean((z_hat - np.asarray(z, np.float64)) ** 2, axis=1)
    critic = np.mean(value_fake - value_real + 10.0 * penalty + 200.0 * latent + code)
    generator = np.mean(-value_fake + 200.0 * latent + code)
    return critic, generator, penalty


@pytest.mark.parametrize("num_values", [0, V])
def test_losses_equal_closed_form_for_linear_critic(num_values):
    model, params, batch = make(num_values)
    rng = jax.random.PRNGKey(5)
    objective = ql_info_wgan_gp() if num_values else info_wgan_gp()
    losses, metrics = jax.jit(functools.partial(objective.loss_fn, model=model))(
        params, batch, rng, step=0
    )
    latent_rng = jax.random.split(rng)[0]  # the documented stream of the prior sample
    z = model.apply({"params": params}, 6, method=model.sample_latents, rngs={"latent": latent_rng})
    critic, generator, penalty = np_losses(params, batch["image"], z, {"q": 0.01, "c": 0.01})
    np.testing.assert_allclose(losses["critic"], critic, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(losses["generator"], generator, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(metrics["loss/gradient_penalty"], penalty, rtol=1e-5, atol=1e-6)
    assert ("loss/quantization" in metrics) == bool(num_values)


def test_gradient_penalty_closed_form():
    """v(x) = Σ x² has ∇v = 2x, so the penalty is (2‖x‖ − 1)² per example."""
    x = jax.random.normal(jax.random.PRNGKey(0), (3, 2, 2, 1))
    got = gradient_penalty(lambda b: jnp.sum(b**2, axis=(1, 2, 3)), x)
    want = (2 * np.linalg.norm(np.asarray(x).reshape(3, -1), axis=1) - 1) ** 2
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_step_runs_n_critic_updates_then_the_generator():
    default = info_wgan_gp()
    assert default.schedule == (("critic",),) * 5 + (("generator",),)
    assert default.batches_per_step == 5 and default.batch_index == (0, 1, 2, 3, 4, 4)
    model, params, _ = make()
    objective = info_wgan_gp(n_critic=2)  # the same schedule, shorter to compile
    txs = {p: optax.adam(2e-4, b1=0.0, b2=0.9) for p in ("critic", "generator")}
    state = TrainState.create(params, txs, jax.random.PRNGKey(3))
    batch = {"image": jax.random.uniform(jax.random.PRNGKey(4), (2, 6, *SHAPE))}
    step = functools.partial(
        multi_player_step,
        loss_fn=functools.partial(info_wgan_gp_losses, model=model),
        objective=objective,
    )
    new, metrics = jax.jit(step)(state, batch)
    assert int(new.step) == 1 and np.isfinite(float(metrics["loss/critic"]))
    for player in ("critic", "generator"):
        before, after = jax.tree.leaves(params[player]), jax.tree.leaves(new.params[player])
        assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    # Adam's update counts: n_critic critic updates, one generator update per step.
    assert int(new.opt_state["critic"][0].count) == 2
    assert int(new.opt_state["generator"][0].count) == 1
