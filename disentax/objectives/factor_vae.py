"""FactorVAE (Kim & Mnih 2018) as disentanglement_lib trains it: a VAE and a code discriminator."""

import jax
import jax.numpy as jnp

from disentax.objectives.players import MultiPlayer
from disentax.objectives.vae import bernoulli_reconstruction, gaussian_kl

PROBABILITY_CLIP = 1e-6  # disentanglement_lib clips the discriminator's softmax to [1e-6, 1 - 1e-6]


def permute_dims(z_BxL: jax.Array, rng: jax.Array) -> jax.Array:
    """Samples of Π_j q(z_j) from samples of q(z): each column of `z [B, L]` permuted over the
    batch by its own random permutation (disentanglement_lib `shuffle_codes`). `[B, L] -> [B, L]`.
    """
    keys = jax.random.split(rng, z_BxL.shape[1])
    return jax.vmap(jax.random.permutation, in_axes=(0, 1), out_axes=1)(keys, z_BxL)


def discriminator_tc(logits_Bx2: jax.Array) -> jax.Array:
    """The density-ratio estimate of the total correlation on codes z ~ q(z):
    TC ≈ E_B[D_0(z) − D_1(z)] = E_B[log p_real(z) − log p_fake(z)], logits `[B, 2]` -> scalar."""
    return jnp.mean(logits_Bx2[:, 0] - logits_Bx2[:, 1])


def discriminator_loss(logits_Bx2: jax.Array, permuted_logits_Bx2: jax.Array) -> jax.Array:
    """L_D = −(½ E_B[log p_0(z)] + ½ E_B[log p_1(z̃)]): the cross-entropy of class 0 ("real",
    z ~ q(z)) and class 1 (z̃ = `permute_dims(z)`), p = clip(softmax(logits), 1e-6, 1 − 1e-6)
    as disentanglement_lib (which maximises the negation). Logits `[B, 2]` each -> scalar."""

    def log_probs(logits):
        p = jax.nn.softmax(logits, axis=-1)
        return jnp.log(jnp.clip(p, PROBABILITY_CLIP, 1.0 - PROBABILITY_CLIP))

    return -(
        0.5 * jnp.mean(log_probs(logits_Bx2)[:, 0])
        + 0.5 * jnp.mean(log_probs(permuted_logits_Bx2)[:, 1])
    )


def factor_vae_losses(params, batch, rng, *, model, step, gamma: float = 10.0):
    """FactorVAE (Kim & Mnih 2018, Eq. 2), disentanglement_lib `vae.py` `FactorVAE.model_fn`:

    model:          L_VAE = E_B[recon(x)] + E_B[KL(q(z|x) || p(z))] + γ · E_B[D_0(z) − D_1(z)]
    discriminator:  L_D = −(½ E_B[log p_0(z)] + ½ E_B[log p_1(permute_dims(z))])

    on one sampled z per image (the `latent` stream of `rng`; the permutation uses a second key
    split from `rng`), recon summed over pixels. `model` is a `models.WithDiscriminator`; params
    `{"model": ..., "discriminator": ...}`. Each player's gradient is taken of its own loss only
    (`MultiPlayer`), so L_VAE's TC term trains the encoder through the fixed discriminator and
    L_D trains the discriminator on fixed codes. Returns `({"model": L_VAE, "discriminator": L_D},
    metrics)` with `loss` (= L_VAE), `loss/reconstruction`, `loss/kl`, `loss/tc` (unweighted),
    `loss/discriminator` and `elbo`. `step` is unused.
    """
    del step
    latent_rng, permute_rng = jax.random.split(rng)
    x = batch["image"]
    logits, aux = model.apply({"params": params}, x, train=True, rngs={"latent": latent_rng})
    z = aux["z"]
    reconstruction = jnp.mean(bernoulli_reconstruction(logits, x))
    kl = jnp.mean(gaussian_kl(aux["mu"], aux["logvar"]))
    d_logits = model.apply({"params": params}, z, method=model.discriminate)
    permuted = permute_dims(z, permute_rng)
    d_permuted_logits = model.apply({"params": params}, permuted, method=model.discriminate)
    tc = discriminator_tc(d_logits)
    vae_loss = reconstruction + kl + gamma * tc
    d_loss = discriminator_loss(d_logits, d_permuted_logits)
    return {"model": vae_loss, "discriminator": d_loss}, {
        "loss": vae_loss,
        "loss/reconstruction": reconstruction,
        "loss/kl": kl,
        "loss/tc": tc,
        "loss/discriminator": d_loss,
        "elbo": -(reconstruction + kl),
    }


factor_vae = MultiPlayer(
    loss_fn=factor_vae_losses, schedule=(("model", "discriminator"),), discriminator=True
)
