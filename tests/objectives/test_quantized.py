"""QLAE-family objectives against NumPy transcriptions of the QLAE code's losses."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm

from disentax.models import MODELS
from disentax.models.latents import BioLatent, DiagonalGaussian, ScalarQuantizer, VectorQuantizer
from disentax.objectives import OBJECTIVES, bio_ae, qlae, qlae_tc_vae, qlae_vae, vq_vae

RNG = np.random.default_rng(0)
X = (RNG.uniform(size=(3, 4, 4, 2)) > 0.5).astype(np.float32)
LOGITS = RNG.normal(size=(3, 4, 4, 2)).astype(np.float32)


class Stub(nn.Module):
    """Test double: the logits and the encoder output h are parameters; h goes through `latent`."""

    latent: nn.Module
    width: int

    @nn.compact
    def __call__(self, x, *, train=False):
        logits = self.param("logits", lambda *_: jnp.asarray(LOGITS))
        h = self.param(
            "h", lambda *_: jnp.asarray(RNG.normal(0, 0.5, (3, self.width)), jnp.float32)
        )
        kwargs = {"sample": train} if isinstance(self.latent, DiagonalGaussian) else {}
        z, aux = self.latent(h, **kwargs)
        return logits + 0.0 * x, {"z": z, **aux}


def np_bce(logits, x):
    """mean over all pixels of -[x log σ(l) + (1 - x) log(1 - σ(l))]."""
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    return np.mean(-(x * np.log(p) + (1 - x) * np.log(1 - p)))


def setup(latent, width):
    model = Stub(latent, width)
    params = model.init({"params": jax.random.PRNGKey(0)}, X)["params"]
    return model, params


def test_qlae_and_vq_vae_losses_match_the_reference():
    cases = (
        (qlae, ScalarQuantizer(10), 6, 0.01, 0.01),
        (vq_vae, VectorQuantizer(8, 3), 6, 1, 0.25),
    )
    for objective, latent, width, lq, lc in cases:
        model, params = setup(latent, width)
        loss, m = jax.jit(functools.partial(objective, model=model, step=0))(
            params, {"image": X}, None
        )
        h = np.asarray(params["h"], np.float64)
        _, aux = model.apply({"params": params}, X)
        q = np.asarray(aux["z_quantized"], np.float64).reshape(3, -1)
        sq = np.mean((h - q) ** 2, axis=1).mean()  # per-example mean over latents, batch mean
        want = np_bce(LOGITS, X) + lq * sq + lc * sq
        np.testing.assert_allclose(m["loss/reconstruction"], np_bce(LOGITS, X), rtol=1e-6)
        np.testing.assert_allclose(m["loss/quantization"], sq, rtol=1e-5)
        np.testing.assert_allclose(m["loss/commitment"], sq, rtol=1e-5)
        np.testing.assert_allclose(loss, want, rtol=1e-5)


def test_qlae_codebook_gradient_comes_from_the_quantization_term_only():
    model, params = setup(ScalarQuantizer(10), 4)
    grads = jax.grad(lambda p: qlae(p, {"image": X}, None, model=model, step=0)[0])(params)
    h = np.asarray(params["h"])
    values = np.linspace(-0.5, 0.5, 10)
    idx = np.argmin(np.abs(h[:, :, None] - values), axis=-1)
    want = np.zeros((4, 10))
    for b in range(3):
        for j in range(4):  # 0.01 · d/dv mean_b mean_j (v - h)^2; BCE and commitment add nothing
            want[j, idx[b, j]] += 0.01 * 2 * (values[idx[b, j]] - h[b, j]) / 12
    np.testing.assert_allclose(grads["latent"]["codebook"], want, atol=1e-7)
    # h: 0.01 · 2 (h - q) / 12 from commitment only (the logits do not depend on z here).
    np.testing.assert_allclose(grads["h"], 0.01 * 2 * (h - values[idx]) / 12, atol=1e-7)


def test_bio_ae_loss_matches_the_reference():
    model, params = setup(BioLatent(), 5)
    loss, m = bio_ae(params, {"image": X}, None, model=model, step=0, activity=0.01)
    z = np.asarray(params["h"], np.float64)
    negative, energy = np.mean(np.maximum(-z, 0)), np.mean(z**2)
    np.testing.assert_allclose(m["loss/nonnegative"], negative, rtol=1e-6)
    np.testing.assert_allclose(m["loss/activity"], energy, rtol=1e-6)
    np.testing.assert_allclose(loss, np_bce(LOGITS, X) + negative + 0.01 * energy, rtol=1e-5)


def test_qlae_vae_is_dlib_loss_over_pixels():
    model, params = setup(DiagonalGaussian(), 4)
    loss, m = qlae_vae(params, {"image": X}, jax.random.PRNGKey(3), model=model, step=0, beta=3.0)
    h = np.asarray(params["h"], np.float64)
    mu, sigma = h[:, :2], np.log1p(np.exp(h[:, 2:]))
    kl = np.mean(np.sum(0.5 * (mu**2 + sigma**2 - 1) - np.log(sigma), axis=1))
    np.testing.assert_allclose(m["loss/kl"], kl, rtol=1e-5)
    np.testing.assert_allclose(loss, np_bce(LOGITS, X) + 3.0 * kl / 32, rtol=1e-5)


def test_qlae_tc_vae_matches_the_reference_decomposition():
    model, params = setup(DiagonalGaussian(), 4)
    hp = {"total_correlation": 3.0, "dataset_size": 1000}
    rng = jax.random.PRNGKey(5)
    loss, m = jax.jit(functools.partial(qlae_tc_vae, model=model, step=0, **hp))(
        params, {"image": X}, rng
    )
    _, aux = jax.jit(lambda p: model.apply({"params": p}, X, train=True, rngs={"latent": rng}))(
        params
    )
    z, mu = np.asarray(aux["z"], np.float64), np.asarray(aux["mu"], np.float64)
    sigma = np.exp(0.5 * np.asarray(aux["logvar"], np.float64))
    b, n = 3, 1000
    log_q_ijk = norm.logpdf(z[:, None, :], mu[None], sigma[None])  # TCVAE.log_q_z_given_x_k
    log_q_z = logsumexp(log_q_ijk.sum(2), axis=1) - np.log(b) - np.log(n)
    log_prod = np.sum(logsumexp(log_q_ijk, axis=1) - np.log(b) - np.log(n), axis=1)
    mi = norm.logpdf(z, mu, sigma).sum(1) - log_q_z
    tc = log_q_z - log_prod
    dim_kl = log_prod - norm.logpdf(z).sum(1)
    want = np.mean(np_bce(LOGITS, X) + (mi + 3.0 * tc + dim_kl) / 32)
    for key, value in (("loss/mi", mi), ("loss/tc", tc), ("loss/dim_kl", dim_kl)):
        np.testing.assert_allclose(m[key], np.mean(value), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(loss, want, rtol=1e-5)


def test_registered_objectives_run_on_the_tiny_models():
    x = (RNG.uniform(size=(2, 64, 64, 1)) > 0.5).astype(np.float32)
    for name, objective in (("qlae_tiny", "qlae"), ("qlae_bio_ae_tiny", "bio_ae")):
        model = MODELS.get(name)(num_latents=3, channels=1, image_size=64)
        shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0), x)["params"]
        params = jax.tree.map(lambda s: RNG.normal(0, 0.1, s.shape).astype(np.float32), shapes)
        loss_fn = functools.partial(OBJECTIVES.get(objective), model=model, step=0)
        loss, metrics = jax.jit(loss_fn)(params, {"image": x}, jax.random.PRNGKey(0))
        assert np.isfinite(loss) and metrics["loss"] == loss
