"""Ada-GVAE / Ada-ML-VAE against a NumPy transcription of disentanglement_lib's `weak_vae.py`."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.errors import UserError
from disentax.objectives import (
    OBJECTIVES,
    adaptive_average,
    adaptive_shared_mask,
    average_posteriors,
    pairwise_kl,
)

B, L, SHAPE = 6, 5, (4, 4, 1)


class LinearVAE(nn.Module):
    """Fixed linear encoder / decoder, so the encoder outputs are known in closed form."""

    def setup(self):
        self.enc = nn.Dense(2 * L)
        self.dec = nn.Dense(int(np.prod(SHAPE)))

    def encode(self, x):
        h = self.enc(x.reshape(x.shape[0], -1))
        return h[:, :L], h[:, L:]

    def decode(self, z):
        return self.dec(z).reshape(z.shape[0], *SHAPE)


# ---- NumPy transcription of disentanglement_lib methods/weak/weak_vae.py (float64) ----


def np_compute_kl(z_1, z_2, logvar_1, logvar_2):
    var_1, var_2 = np.exp(logvar_1), np.exp(logvar_2)
    return var_1 / var_2 + (z_2 - z_1) ** 2 / var_2 - 1 + logvar_2 - logvar_1


def np_discretize_in_bins(x):
    """tf.histogram_fixed_width_bins(x, [min x, max x], nbins=2), per row."""
    lo, hi = x.min(axis=1, keepdims=True), x.max(axis=1, keepdims=True)
    return np.clip(np.floor(2 * (x - lo) / (hi - lo)), 0, 1).astype(int)


def np_weak_loss(params, x1, x2, eps, beta, average):
    w, b = (np.asarray(params["enc"][n], np.float64) for n in ("kernel", "bias"))
    wd, bd = (np.asarray(params["dec"][n], np.float64) for n in ("kernel", "bias"))
    h1, h2 = x1.reshape(B, -1) @ w + b, x2.reshape(B, -1) @ w + b
    z_mean, z_logvar, z_mean_2, z_logvar_2 = h1[:, :L], h1[:, L:], h2[:, :L], h2[:, L:]
    kl_per_point = np_compute_kl(z_mean, z_mean_2, z_logvar, z_logvar_2)
    var_1, var_2 = np.exp(z_logvar), np.exp(z_logvar_2)
    if average == "gvae":
        new_mean = 0.5 * z_mean + 0.5 * z_mean_2
        new_log_var = np.log(0.5 * var_1 + 0.5 * var_2)
    else:
        new_var = 2 * var_1 * var_2 / (var_1 + var_2)
        new_mean = (z_mean / var_1 + z_mean_2 / var_2) * new_var * 0.5
        new_log_var = np.log(new_var)
    mask = np_discretize_in_bins(kl_per_point) == 1
    losses = []
    for mean, logvar, x, e in (
        (z_mean, z_logvar, x1, eps[:B]),
        (z_mean_2, z_logvar_2, x2, eps[B:]),
    ):
        mean_s = np.where(mask, mean, new_mean)
        logvar_s = np.where(mask, logvar, new_log_var)
        z = mean_s + np.exp(logvar_s / 2) * e
        logits = (z @ wd + bd).reshape(B, -1)
        xf = x.reshape(B, -1)
        bce = np.maximum(logits, 0) - logits * xf + np.log1p(np.exp(-np.abs(logits)))
        recon = np.mean(bce.sum(axis=1))
        kl = np.mean(0.5 * np.sum(mean_s**2 + np.exp(logvar_s) - logvar_s - 1, axis=1))
        losses.append((recon, kl))
    recon = 0.5 * losses[0][0] + 0.5 * losses[1][0]
    kl = 0.5 * losses[0][1] + 0.5 * losses[1][1]
    return recon + beta * kl, recon, kl, (~mask).sum(axis=1).mean()


@pytest.fixture(scope="module")
def setup():
    model = LinearVAE()
    x1 = jax.random.uniform(jax.random.PRNGKey(1), (B, *SHAPE))
    x2 = x1.at[:, :2].set(jax.random.uniform(jax.random.PRNGKey(2), (B, 2, *SHAPE[1:])))
    params = model.init(jax.random.PRNGKey(0), x1, method=lambda m, x: m.decode(m.encode(x)[0]))[
        "params"
    ]
    # Spread the encoder outputs so the posteriors differ clearly between dimensions.
    params = jax.tree.map(lambda p: 3.0 * p, params)
    return model, params, x1, x2


@pytest.mark.parametrize("name, average", [("ada_gvae", "gvae"), ("ada_ml_vae", "ml_vae")])
@pytest.mark.parametrize("beta", [1.0, 4.0])
def test_loss_matches_numpy_transcription(setup, name, average, beta):
    model, params, x1, x2 = setup
    rng = jax.random.PRNGKey(7)
    loss_fn = jax.jit(functools.partial(OBJECTIVES.get(name), model=model, step=0, beta=beta))
    loss, metrics = loss_fn(params, {"image": x1, "image_pair": x2, "factors": None}, rng)
    eps = np.asarray(jax.random.normal(rng, (2 * B, L)), np.float64)
    expected, recon, kl, num_shared = np_weak_loss(
        params, np.asarray(x1, np.float64), np.asarray(x2, np.float64), eps, beta, average
    )
    assert 0 < num_shared < L  # the case exercises both averaged and kept dimensions
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    np.testing.assert_allclose(metrics["loss/reconstruction"], recon, rtol=1e-5)
    np.testing.assert_allclose(metrics["loss/kl"], kl, rtol=1e-5)
    np.testing.assert_allclose(metrics["elbo"], -(recon + kl), rtol=1e-5)
    np.testing.assert_allclose(metrics["num_shared"], num_shared, rtol=1e-6)


def test_threshold_keeps_the_dimensions_with_the_largest_kl():
    # δ = (0.1, 5, 0.2, 9, 4.4): τ = (9 + 0.1) / 2 = 4.55, so dims 1 and 3 are kept, 4 shared.
    delta = jnp.array([[0.1, 5.0, 0.2, 9.0, 4.4], [3.0, 3.0, 3.0, 3.0, 3.0]])
    shared = np.asarray(adaptive_shared_mask(delta))
    np.testing.assert_array_equal(shared[0], [True, False, True, False, True])
    assert not shared[1].any()  # all δ equal: nothing is inferred as shared
    # pairwise_kl is the per-dimension Gaussian KL: mu 0 vs 2 at unit variance gives 2.
    kl = pairwise_kl(
        jnp.zeros((1, 2)), jnp.zeros((1, 2)), jnp.array([[2.0, 0.0]]), jnp.zeros((1, 2))
    )
    np.testing.assert_allclose(kl, [[2.0, 0.0]], atol=1e-7)


def test_shared_dimensions_are_averaged_and_others_kept():
    # δ = (50, 50, 0.22, 0, 0): dims 0, 1 are kept, dims 2..4 shared.
    mu1 = jnp.array([[5.0, -5.0, 0.0, 0.3, 0.0]])
    mu2 = jnp.array([[-5.0, 5.0, 0.2, 0.3, 0.0]])
    logvar1 = jnp.log(jnp.array([[1.0, 1.0, 1.0, 0.5, 2.0]]))
    logvar2 = jnp.log(jnp.array([[1.0, 1.0, 3.0, 0.5, 2.0]]))
    # dim 2: μ = (0, 0.2), σ² = (1, 3). GVAE: mean 0.1, var 2. ML-VAE: the product of experts'
    # mean (0/1 + 0.2/3) / (1/1 + 1/3) = 0.05 and var 2·1·3 / (1 + 3) = 1.5.
    for average, mean_2, var_2 in (("gvae", 0.1, 2.0), ("ml_vae", 0.05, 1.5)):
        (m1, lv1), (m2, lv2), shared = adaptive_average(mu1, logvar1, mu2, logvar2, average)
        np.testing.assert_array_equal(shared[0], [False, False, True, True, True])
        np.testing.assert_array_equal(m1[0, :2], mu1[0, :2])
        np.testing.assert_array_equal(m2[0, :2], mu2[0, :2])
        np.testing.assert_array_equal(lv2[0, :2], logvar2[0, :2])
        np.testing.assert_array_equal(m1[0, 2:], m2[0, 2:])
        np.testing.assert_array_equal(lv1[0, 2:], lv2[0, 2:])
        np.testing.assert_allclose(m1[0, 2], mean_2, rtol=1e-6)
        np.testing.assert_allclose(jnp.exp(lv1[0, 2]), var_2, rtol=1e-6)
        # equal posteriors (dims 3, 4) average to themselves under both rules
        np.testing.assert_allclose(m1[0, 3:], mu1[0, 3:], rtol=1e-6)
        np.testing.assert_allclose(lv1[0, 3:], logvar1[0, 3:], atol=1e-6)


def test_single_images_are_read_as_the_pair_x_x(setup):
    model, params, x1, _ = setup
    rng = jax.random.PRNGKey(3)
    loss_fn = functools.partial(OBJECTIVES.get("ada_gvae"), model=model, step=0)
    single, metrics = loss_fn(params, {"image": x1}, rng)
    pair, _ = loss_fn(params, {"image": x1, "image_pair": x1}, rng)
    np.testing.assert_allclose(single, pair, rtol=1e-6)
    assert metrics["num_shared"] == 0
    # With nothing averaged both halves see the encoder's own posterior: the β-VAE terms.
    mu, logvar = model.apply({"params": params}, x1, method=model.encode)
    kl = 0.5 * np.sum(mu**2 + np.exp(logvar) - logvar - 1, axis=1).mean()
    np.testing.assert_allclose(metrics["loss/kl"], kl, rtol=1e-5)


def test_bad_average_is_a_one_line_user_error():
    z = jnp.zeros((1, 2))
    with pytest.raises(UserError, match="gvae, ml_vae"):
        average_posteriors(z, z, z, z, "mean")
