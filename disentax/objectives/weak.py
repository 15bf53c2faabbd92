"""Ada-GVAE and Ada-ML-VAE (Locatello et al. 2020): VAEs on pairs that share unknown latents."""

import jax
import jax.numpy as jnp

from disentax.errors import UserError
from disentax.models.latents import gaussian_sample
from disentax.objectives.vae import bernoulli_reconstruction, gaussian_kl

AVERAGES = ("gvae", "ml_vae")


def pairwise_kl(mu1, logvar1, mu2, logvar2):
    """Per-dimension δ_j = KL(N(μ1_j, σ1_j²) || N(μ2_j, σ2_j²))
    = ½ (σ1²/σ2² + (μ2 − μ1)²/σ2² − 1 + log σ2² − log σ1²): `[B, L] -> [B, L]`."""
    var_ratio = jnp.exp(logvar1 - logvar2)
    return 0.5 * (var_ratio + (mu2 - mu1) ** 2 * jnp.exp(-logvar2) - 1.0 + logvar2 - logvar1)


def adaptive_shared_mask(delta):
    """The dimensions inferred as shared: δ_j < τ with τ = ½ (max_j δ_j + min_j δ_j) per row.

    This is disentanglement_lib's split of δ into two bins of equal width over [min δ, max δ]
    (`aggregate_argmax`): the lower bin is averaged, the upper bin (δ_j ≥ τ, always holding the
    largest δ) keeps each posterior. A row whose δ are all equal has no shared dimension.
    `[B, L] -> bool [B, L]`.
    """
    tau = 0.5 * (jnp.max(delta, axis=-1, keepdims=True) + jnp.min(delta, axis=-1, keepdims=True))
    return delta < tau


def average_posteriors(mu1, logvar1, mu2, logvar2, average: str):
    """The averaged posterior (μ̃, log σ̃²) of the shared dimensions, `[B, L]` each.

    "gvae" (Group-VAE, Hosoya 2019): μ̃ = ½ (μ1 + μ2), σ̃² = ½ (σ1² + σ2²).
    "ml_vae" (ML-VAE, Bouchacourt et al. 2018; a product of the two experts): μ̃ is the
    product's mean (μ1/σ1² + μ2/σ2²) / (1/σ1² + 1/σ2²) and σ̃² = 2 σ1² σ2² / (σ1² + σ2²), twice
    the product's variance (the harmonic mean of the two), as disentanglement_lib's `MLVae`.
    """
    if average not in AVERAGES:
        raise UserError(f"average must be one of {', '.join(AVERAGES)}, got {average!r}")
    var1, var2 = jnp.exp(logvar1), jnp.exp(logvar2)
    if average == "gvae":
        return 0.5 * (mu1 + mu2), jnp.log(0.5 * (var1 + var2))
    var = 2.0 * var1 * var2 / (var1 + var2)
    return 0.5 * var * (mu1 / var1 + mu2 / var2), jnp.log(var)


def adaptive_average(mu1, logvar1, mu2, logvar2, average: str):
    """Replaces the dimensions `adaptive_shared_mask(pairwise_kl(...))` marks as shared by
    `average_posteriors(...)` in both posteriors: ((μ̂1, log σ̂1²), (μ̂2, log σ̂2²), mask), `[B, L]`."""
    shared = adaptive_shared_mask(pairwise_kl(mu1, logvar1, mu2, logvar2))
    mu_avg, logvar_avg = average_posteriors(mu1, logvar1, mu2, logvar2, average)
    first = (jnp.where(shared, mu_avg, mu1), jnp.where(shared, logvar_avg, logvar1))
    second = (jnp.where(shared, mu_avg, mu2), jnp.where(shared, logvar_avg, logvar2))
    return first, second, shared


def ada_vae(params, batch, rng, *, model, step, beta: float = 1.0, average: str = "gvae"):
    """The adaptive group VAE loss on a pair batch (disentanglement_lib `GroupVAEArgmax` for
    average "gvae", `MLVaeArgmax` for "ml_vae"):

        L = ½ Σ_{i=1,2} E_B[ recon(x_i | z_i) ] + β · ½ Σ_{i=1,2} E_B[ KL(q̂(z | x_i) || N(0, I)) ]

    q̂(z | x_i) is the encoder's posterior of x_i with the dimensions `adaptive_shared_mask`
    infers as shared replaced by `average_posteriors` of the pair; z_i = μ̂_i + σ̂_i ε_i with
    ε = `jax.random.normal(rng, [2B, L])` (rows 0..B−1 for x1, B..2B−1 for x2). recon is the
    Bernoulli NLL summed over pixels and KL is summed over latents, each averaged over the batch.

    `batch`: "image" x1 and "image_pair" x2, `[B, H, W, C]` in [0, 1] (`data.pairs`). A batch
    without "image_pair" (single images, as in held-out evaluation) is read as the pair (x, x):
    both posteriors are equal, nothing is averaged and L is the β-VAE loss. `model` needs
    `encode(x) -> (μ, log σ²)` and `decode(z) -> logits`. `step` is unused. Returns `(loss,
    metrics)` with `loss/reconstruction`, `loss/kl`, `elbo` and `num_shared` (the mean number of
    averaged dimensions per pair).
    """
    del step
    x1 = batch["image"]
    x2 = batch.get("image_pair", x1)
    if x2.shape != x1.shape:
        raise UserError(f"image_pair must have the shape of image {x1.shape}, got {x2.shape}")
    n = x1.shape[0]
    mu, logvar = model.apply({"params": params}, jnp.concatenate([x1, x2]), method=model.encode)
    (mu1, logvar1), (mu2, logvar2), shared = adaptive_average(
        mu[:n], logvar[:n], mu[n:], logvar[n:], average
    )
    mu_hat, logvar_hat = jnp.concatenate([mu1, mu2]), jnp.concatenate([logvar1, logvar2])
    eps = jax.random.normal(rng, mu_hat.shape, mu_hat.dtype)
    z = gaussian_sample(mu_hat, logvar_hat, eps)
    logits = model.apply({"params": params}, z, method=model.decode)
    # ½ (mean over x1 + mean over x2) is the mean over the 2B stacked rows.
    reconstruction = jnp.mean(bernoulli_reconstruction(logits, jnp.concatenate([x1, x2])))
    kl = jnp.mean(gaussian_kl(mu_hat, logvar_hat))
    loss = reconstruction + beta * kl
    return loss, {
        "loss": loss,
        "loss/reconstruction": reconstruction,
        "loss/kl": kl,
        "elbo": -(reconstruction + kl),
        "num_shared": jnp.mean(jnp.sum(shared, axis=-1).astype(jnp.float32)),
    }


def ada_gvae(params, batch, rng, *, model, step, beta: float = 1.0):
    """Ada-GVAE: `ada_vae` with the Group-VAE average μ̃ = ½ (μ1 + μ2), σ̃² = ½ (σ1² + σ2²) of
    the shared dimensions. See `ada_vae` for the loss, the batch and the metrics."""
    return ada_vae(params, batch, rng, model=model, step=step, beta=beta, average="gvae")


def ada_ml_vae(params, batch, rng, *, model, step, beta: float = 1.0):
    """Ada-ML-VAE: `ada_vae` with the ML-VAE average (product-of-experts mean, σ̃² =
    2 σ1² σ2² / (σ1² + σ2²)) of the shared dimensions. See `ada_vae` for the loss and batch."""
    return ada_vae(params, batch, rng, model=model, step=step, beta=beta, average="ml_vae")
