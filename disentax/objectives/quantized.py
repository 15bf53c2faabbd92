"""The QLAE code's autoencoder objectives (pixel-mean BCE): QLAE, VQ-VAE, BioAE, VAE, TC-VAE."""

import math

import jax
import jax.numpy as jnp
import optax

from disentax.objectives.vae import gaussian_kl, gaussian_log_density


def mean_bernoulli_reconstruction(logits, x):
    """mean_pixels BCE(sigmoid(logits), x), averaged as in the QLAE code: `[B, ...] -> [B]`.

    The mean runs over every pixel and channel (disentanglement_lib sums instead; see
    `disentax.objectives.vae.bernoulli_reconstruction`).
    """
    bce = optax.sigmoid_binary_cross_entropy(logits, x)
    return jnp.mean(bce.reshape(bce.shape[0], -1), axis=-1)


def quantization_loss(z_continuous: jax.Array, z_quantized: jax.Array) -> jax.Array:
    """mean_j (sg(z_c,j) − z_q,j)²: the term that trains the codebook, `[B, ...] -> [B]`.

    A per-example mean over every latent element (QLAE code `QuantizedAE.quantization_loss`).
    """
    sq = jnp.square(jax.lax.stop_gradient(z_continuous) - z_quantized)
    return jnp.mean(sq.reshape(sq.shape[0], -1), axis=-1)


def commitment_loss(z_continuous: jax.Array, z_quantized: jax.Array) -> jax.Array:
    """mean_j (z_c,j − sg(z_q,j))²: pulls the encoder towards its code, `[B, ...] -> [B]`.

    A per-example mean over every latent element (QLAE code `QuantizedAE.commitment_loss`).
    """
    sq = jnp.square(z_continuous - jax.lax.stop_gradient(z_quantized))
    return jnp.mean(sq.reshape(sq.shape[0], -1), axis=-1)


def _quantized_ae(params, x, model, quantization, commitment):
    logits, aux = model.apply({"params": params}, x, train=True)
    reconstruction = jnp.mean(mean_bernoulli_reconstruction(logits, x))
    q = jnp.mean(quantization_loss(aux["z_continuous"], aux["z_quantized"]))
    c = jnp.mean(commitment_loss(aux["z_continuous"], aux["z_quantized"]))
    loss = reconstruction + quantization * q + commitment * c
    return loss, {
        "loss": loss,
        "loss/reconstruction": reconstruction,
        "loss/quantization": q,
        "loss/commitment": c,
    }


def qlae(params, batch, rng, *, model, step, quantization: float = 0.01, commitment: float = 0.01):
    """QLAE (Hsu et al. 2023): L = E_B[ BCE_mean(x) + λ_q · mean_j (sg(z_c,j) − z_q,j)²
    + λ_c · mean_j (z_c,j − sg(z_q,j))² ], λ_q = λ_c = 0.01.

    BCE_mean is `mean_bernoulli_reconstruction` (mean over pixels); the two code terms are
    `quantization_loss` / `commitment_loss` (mean over latents); all three are averaged
    over the batch (QLAE code `QuantizedAE.batched_loss`). The codebook gets gradients only from
    the quantization term. Needs a model whose aux has `z_continuous` and `z_quantized` (`qlae*`).
    `rng` and `step` are unused. Returns `(loss, metrics)` with `loss/reconstruction`,
    `loss/quantization` and `loss/commitment` (unweighted).
    """
    del rng, step
    return _quantized_ae(params, batch["image"], model, quantization, commitment)


def vq_vae(params, batch, rng, *, model, step, quantization: float = 1.0, commitment: float = 0.25):
    """VQ-VAE as the QLAE code's baseline: the `qlae` loss with λ_q = 1, λ_c = 0.25,
    L = E_B[ BCE_mean(x) + λ_q · mean_{l,d} (sg(z_c) − z_q)² + λ_c · mean_{l,d} (z_c − sg(z_q))² ],
    the code terms averaged over all L · D code elements (model `qlae_vq_vae*`). `rng` and `step`
    are unused. Metrics as `qlae`.
    """
    del rng, step
    return _quantized_ae(params, batch["image"], model, quantization, commitment)


def bio_ae(params, batch, rng, *, model, step, nonnegative: float = 1.0, activity: float = 0.1):
    """BioAE as the QLAE code's baseline: L = E_B[ BCE_mean(x) + λ_n · mean_j max(−z_j, 0)
    + λ_a · mean_j z_j² ], λ_n = 1, λ_a = 0.1 (0.01 in its shapes3d / mpi3d / falcor3d configs).

    Non-negativity and activity (energy) terms are per-example means over the L latents of the
    code z, then averaged over the batch (QLAE code `BioAE.batched_loss`); the weight decay it adds
    (1e-4) is the optimizer's. `rng` and `step` are unused. Returns `(loss, metrics)` with
    `loss/reconstruction`, `loss/nonnegative` and `loss/activity` (unweighted).
    """
    del rng, step
    x = batch["image"]
    logits, aux = model.apply({"params": params}, x, train=True)
    z = aux["z"]
    reconstruction = jnp.mean(mean_bernoulli_reconstruction(logits, x))
    negative = jnp.mean(jnp.maximum(-z, 0.0))
    energy = jnp.mean(jnp.square(z))
    loss = reconstruction + nonnegative * negative + activity * energy
    return loss, {
        "loss": loss,
        "loss/reconstruction": reconstruction,
        "loss/nonnegative": negative,
        "loss/activity": energy,
    }


def qlae_vae(params, batch, rng, *, model, step, beta: float = 1.0):
    """The QLAE code's VAE baseline: L = E_B[ BCE_mean(x) + β · KL(q(z|x) || p(z)) / X ],
    X = H·W·C pixels: disentanglement_lib's β-VAE loss divided by X (`VAE.batched_loss`, whose
    `(L / X) · mean_j KL_j` is this KL sum over X). The scale matters under element-wise gradient
    clipping. z is sampled from the `latent` stream of `rng`; `step` is unused. Returns
    `(loss, metrics)` with `loss/reconstruction` (pixel mean), `loss/kl` (summed over latents).
    """
    del step
    x = batch["image"]
    logits, aux = model.apply({"params": params}, x, train=True, rngs={"latent": rng})
    reconstruction = jnp.mean(mean_bernoulli_reconstruction(logits, x))
    kl = jnp.mean(gaussian_kl(aux["mu"], aux["logvar"]))
    loss = reconstruction + beta * kl / math.prod(x.shape[1:])
    return loss, {"loss": loss, "loss/reconstruction": reconstruction, "loss/kl": kl}


def qlae_tc_vae(
    params, batch, rng, *, model, step, total_correlation: float = 1.0, dataset_size: int = 1
):
    """The QLAE code's β-TCVAE baseline (`TCVAE.batched_loss`, Chen et al. 2018 with minibatch-
    weighted sampling): L = E_B[ BCE_mean(x) + (MI + λ_tc · TC + dimKL) / X ], X = H·W·C, with

    log q(z_i) = logsumexp_j Σ_k log q(z_ik | x_j) − log(B·N),
    log Π_k q(z_ik) = Σ_k [logsumexp_j log q(z_ik | x_j) − log(B·N)],
    MI = log q(z_i | x_i) − log q(z_i), TC = log q(z_i) − log Π_k q(z_ik),
    dimKL = log Π_k q(z_ik) − log p(z_i),

    per example on the sampled z (N = `dataset_size`), then averaged over the batch. Their sum is
    a one-sample KL estimate (not the closed form of `qlae_vae`). `step` is unused. Returns
    `(loss, metrics)` with `loss/reconstruction`, `loss/mi`, `loss/tc`, `loss/dim_kl`.
    """
    del step
    x = batch["image"]
    logits, aux = model.apply({"params": params}, x, train=True, rngs={"latent": rng})
    z, mu, logvar = aux["z"], aux["mu"], aux["logvar"]
    log_norm = jnp.log(float(z.shape[0])) + jnp.log(float(dataset_size))
    log_q_BxBxL = gaussian_log_density(z[:, None, :], mu[None], logvar[None])
    log_q_given_x = jnp.sum(gaussian_log_density(z, mu, logvar), axis=-1)
    log_q = jax.nn.logsumexp(jnp.sum(log_q_BxBxL, axis=-1), axis=1) - log_norm
    log_prod = jnp.sum(jax.nn.logsumexp(log_q_BxBxL, axis=1) - log_norm, axis=-1)
    log_p = jnp.sum(gaussian_log_density(z, 0.0, 0.0), axis=-1)
    mi = jnp.mean(log_q_given_x - log_q)
    tc = jnp.mean(log_q - log_prod)
    dim_kl = jnp.mean(log_prod - log_p)
    reconstruction = jnp.mean(mean_bernoulli_reconstruction(logits, x))
    loss = reconstruction + (mi + total_correlation * tc + dim_kl) / math.prod(x.shape[1:])
    return loss, {
        "loss": loss,
        "loss/reconstruction": reconstruction,
        "loss/mi": mi,
        "loss/tc": tc,
        "loss/dim_kl": dim_kl,
    }
