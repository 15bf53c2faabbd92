"""The β-VAE objective and the Gaussian/Bernoulli terms every VAE objective shares."""

import jax.numpy as jnp
import optax


def bernoulli_reconstruction(logits, x):
    """Σ_pixels BCE(sigmoid(logits), x), summed as in disentanglement_lib: `[B, ...] -> [B]`."""
    return jnp.sum(optax.sigmoid_binary_cross_entropy(logits, x), axis=tuple(range(1, x.ndim)))


def gaussian_kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) = ½ Σ_j (mu² + e^logvar − logvar − 1): `[B, L] -> [B]`."""
    return 0.5 * jnp.sum(mu**2 + jnp.exp(logvar) - logvar - 1.0, axis=-1)


def beta_vae(params, batch, rng, *, model, step, beta: float = 1.0):
    """β-VAE (Higgins et al. 2017): L = E_B[ recon(x) + β · KL(q(z|x) || p(z)) ].

    recon is the Bernoulli negative log-likelihood summed over pixels, KL is summed over latents,
    both averaged over the batch (disentanglement_lib `vae.py`). `step` is unused (no schedule).
    Returns `(loss, metrics)` with `metrics["loss/reconstruction"]`, `["loss/kl"]` and `["elbo"]`.
    """
    del step
    x = batch["image"]
    logits, aux = model.apply({"params": params}, x, train=True, rngs={"latent": rng})
    reconstruction = jnp.mean(bernoulli_reconstruction(logits, x))
    kl = jnp.mean(gaussian_kl(aux["mu"], aux["logvar"]))
    loss = reconstruction + beta * kl
    return loss, {
        "loss": loss,
        "loss/reconstruction": reconstruction,
        "loss/kl": kl,
        "elbo": -(reconstruction + kl),
    }
