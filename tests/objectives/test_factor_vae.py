"""FactorVAE against a NumPy transcription of disentanglement_lib's `FactorVAE.model_fn`."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from disentax.models import DISCRIMINATORS, MODELS, WithDiscriminator
from disentax.objectives import (
    OBJECTIVES,
    MultiPlayer,
    discriminator_loss,
    discriminator_tc,
    factor_vae_losses,
    permute_dims,
)


def np_log_softmax_clipped(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return np.log(np.clip(p, 1e-6, 1 - 1e-6))


def np_discriminator(params, z):
    h = np.asarray(z, np.float64)
    names = sorted(k for k in params if k != "logits")
    for k in names:
        a = h @ np.asarray(params[k]["kernel"]) + np.asarray(params[k]["bias"])
        h = np.where(a > 0, a, 0.2 * a)
    return h @ np.asarray(params["logits"]["kernel"]) + np.asarray(params["logits"]["bias"])


def np_factor_vae(x, logits, mu, logvar, d_logits, d_permuted_logits, gamma):
    """disentanglement_lib vae.py, FactorVAE.model_fn, written out in NumPy (float64)."""
    x, logits = np.asarray(x, np.float64), np.asarray(logits, np.float64)
    mu, logvar = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
    bce = np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))
    reconstruction = np.mean(bce.reshape(len(x), -1).sum(axis=1))
    kl = np.mean(0.5 * np.sum(mu**2 + np.exp(logvar) - logvar - 1, axis=1))
    tc = np.mean(d_logits[:, 0] - d_logits[:, 1])
    discr = 0.5 * np.mean(np_log_softmax_clipped(d_logits)[:, 0]) + 0.5 * np.mean(
        np_log_softmax_clipped(d_permuted_logits)[:, 1]
    )
    return reconstruction + kl + gamma * tc, -discr, reconstruction, kl, tc


@pytest.fixture(scope="module")
def setup():
    model = WithDiscriminator(
        model=MODELS.get("tiny_fc_vae")(num_latents=4),
        discriminator=DISCRIMINATORS.get("tiny_fc_discriminator")(),
    )
    x = (jax.random.uniform(jax.random.PRNGKey(1), (8, 64, 64, 1)) > 0.7).astype(jnp.float32)
    params = jax.jit(model.init)(jax.random.PRNGKey(0), x)["params"]
    return model, params, {"image": x}


def test_permute_dims_permutes_each_column_independently():
    z = jnp.arange(32 * 6, dtype=jnp.float32).reshape(32, 6)
    shuffled = np.asarray(jax.jit(permute_dims)(z, jax.random.PRNGKey(0)))
    z = np.asarray(z)
    orders = []
    for j in range(6):
        np.testing.assert_array_equal(np.sort(shuffled[:, j]), z[:, j])  # a permutation
        orders.append(tuple((shuffled[:, j] - j) // 6))  # row index each entry came from
    assert len(set(orders)) == 6  # every column has its own permutation
    assert all(order != tuple(range(32)) for order in orders)


def test_losses_equal_numpy_transcription(setup):
    model, params, batch = setup
    rng, gamma = jax.random.PRNGKey(7), 35.0
    losses, metrics = jax.jit(functools.partial(factor_vae_losses, model=model, gamma=gamma))(
        params, batch, rng, step=0
    )
    # The documented streams: `latent` from split(rng)[0], the permutation from split(rng)[1].
    latent_rng, permute_rng = jax.random.split(rng)

    @jax.jit
    def forward(params, x):
        logits, aux = model.apply({"params": params}, x, train=True, rngs={"latent": latent_rng})
        return logits, aux, permute_dims(aux["z"], permute_rng)

    logits, aux, permuted = forward(params, batch["image"])
    d_params = params["discriminator"]
    d_logits = np_discriminator(d_params, aux["z"])
    d_permuted = np_discriminator(d_params, permuted)
    vae, discr, reconstruction, kl, tc = np_factor_vae(
        batch["image"], logits, aux["mu"], aux["logvar"], d_logits, d_permuted, gamma
    )
    assert abs(float(losses["model"]) - vae) <= 1e-5 * abs(vae)
    assert float(metrics["loss"]) == float(losses["model"])
    assert abs(float(metrics["loss/reconstruction"]) - reconstruction) <= 1e-5 * reconstruction
    np.testing.assert_allclose(metrics["loss/kl"], kl, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(metrics["loss/tc"], tc, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(losses["discriminator"], discr, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(metrics["loss/discriminator"], discr, rtol=1e-5, atol=1e-6)


def test_discriminator_loss_clips_probabilities_like_dlib():
    # Confident logits: p_0 = 1 - ~e^-50 is clipped to 1 - 1e-6, p_1 to 1e-6.
    logits = jnp.array([[50.0, 0.0], [0.0, 50.0]])
    got = discriminator_loss(logits, logits)
    want = -(0.5 * np.mean([np.log(1 - 1e-6), np.log(1e-6)]) * 2)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_trained_discriminator_sees_positive_tc_on_correlated_codes():
    """Class 0 is "real": a discriminator trained with `discriminator_loss` to tell correlated
    codes from their permutation gives them higher class-0 logits, so the TC estimate is > 0;
    on codes with independent dimensions it stays near 0."""
    disc = DISCRIMINATORS.get("tiny_fc_discriminator")()
    params = disc.init(jax.random.PRNGKey(0), jnp.zeros((1, 2)))["params"]
    tx = optax.adam(1e-2)

    def correlated(key):
        u = jax.random.normal(key, (256, 1))
        return jnp.concatenate(
            [u, u + 0.1 * jax.random.normal(jax.random.fold_in(key, 1), u.shape)], 1
        )

    def loss(p, key):
        z = correlated(key)
        permuted = permute_dims(z, jax.random.fold_in(key, 2))
        return discriminator_loss(disc.apply({"params": p}, z), disc.apply({"params": p}, permuted))

    def step(carry, key):
        p, s = carry
        updates, s = tx.update(jax.grad(loss)(p, key), s, p)
        return (optax.apply_updates(p, updates), s), None

    keys = jax.random.split(jax.random.PRNGKey(3), 150)
    (params, _), _ = jax.jit(lambda c: jax.lax.scan(step, c, keys))((params, tx.init(params)))
    test_key = jax.random.PRNGKey(99)
    assert float(loss(params, test_key)) < 0.5 * np.log(2.0)
    tc = float(discriminator_tc(disc.apply({"params": params}, correlated(test_key))))
    independent = jax.random.normal(test_key, (256, 2))
    tc_independent = float(discriminator_tc(disc.apply({"params": params}, independent)))
    assert tc > 1.0 and tc > tc_independent + 1.0


def test_registered_as_two_player_objective():
    objective = OBJECTIVES.get("factor_vae")
    assert isinstance(objective, MultiPlayer) and objective.discriminator
    assert objective.players == ("model", "discriminator")
    assert objective.schedule == (("model", "discriminator"),)  # both on one batch, together
