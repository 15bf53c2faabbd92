import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.models import MODELS
from disentax.objectives import OBJECTIVES, bernoulli_reconstruction, gaussian_kl


def test_gaussian_kl_closed_form():
    mu = jnp.array([[0.0, 1.0, -2.0]])
    logvar = jnp.array([[0.0, 0.0, np.log(4.0)]])
    # KL(N(m, s²) || N(0, 1)) = ½ (m² + s² − ln s² − 1) per dimension.
    expected = 0.5 * (0 + 0) + 0.5 * 1.0 + 0.5 * (4.0 + 4.0 - np.log(4.0) - 1.0)
    np.testing.assert_allclose(jax.jit(gaussian_kl)(mu, logvar), [expected], rtol=1e-6)
    assert float(gaussian_kl(jnp.zeros((1, 5)), jnp.zeros((1, 5)))[0]) == 0.0


def test_bernoulli_reconstruction_sums_over_pixels():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 4, 4, 2))
    x = (rng.uniform(size=logits.shape) > 0.5).astype(np.float64)
    p = 1 / (1 + np.exp(-logits))
    expected = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))
    got = jax.jit(bernoulli_reconstruction)(
        jnp.asarray(logits, jnp.float32), jnp.asarray(x, jnp.float32)
    )
    np.testing.assert_allclose(got, expected, rtol=1e-5)


@pytest.fixture(scope="module")
def setup():
    model = MODELS.get("tiny_conv_vae")(num_latents=3)
    x = (jax.random.uniform(jax.random.PRNGKey(1), (4, 64, 64, 1)) > 0.8).astype(jnp.float32)
    params = model.init(jax.random.PRNGKey(0), x)["params"]
    return model, params, {"image": x}


def test_beta_vae_equals_recon_plus_beta_kl(setup):
    model, params, batch = setup
    rng = jax.random.PRNGKey(2)
    beta_vae = OBJECTIVES.get("beta_vae")
    loss, m = jax.jit(functools.partial(beta_vae, model=model, step=0, beta=4.0))(
        params, batch, rng
    )
    logits, aux = model.apply({"params": params}, batch["image"], train=True, rngs={"latent": rng})
    recon = float(jnp.mean(bernoulli_reconstruction(logits, batch["image"])))
    kl = float(jnp.mean(gaussian_kl(aux["mu"], aux["logvar"])))
    np.testing.assert_allclose([m["loss/reconstruction"], m["loss/kl"]], [recon, kl], rtol=1e-5)
    np.testing.assert_allclose(loss, recon + 4.0 * kl, rtol=1e-5)
    np.testing.assert_allclose(m["elbo"], -(recon + kl), rtol=1e-5)
    loss0, _ = beta_vae(params, batch, rng, model=model, step=0, beta=0.0)
    np.testing.assert_allclose(loss0, recon, rtol=1e-5)
