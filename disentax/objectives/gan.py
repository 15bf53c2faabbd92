"""InfoWGAN-GP and QLInfoWGAN-GP (QLAE code, Hsu et al. 2023): a generator and a latent critic."""

import functools

import jax
import jax.numpy as jnp

from disentax.objectives.players import MultiPlayer

N_CRITIC = 5  # critic updates per generator update (QLAE `generator_step_period`)


def gradient_penalty(value_fn, x_BxHxWxC: jax.Array) -> jax.Array:
    """(‖∇_x v(x)‖₂ − 1)² per example, the norm over all of x's pixels and channels (Gulrajani et
    al. 2017): `value_fn(x [B, ...]) -> [B]`, x `[B, H, W, C]` -> `[B]`."""

    def one(x):
        return value_fn(x[None])[0]

    grads = jax.vmap(jax.grad(one))(x_BxHxWxC)
    norms = jnp.sqrt(jnp.sum(grads**2, axis=tuple(range(1, grads.ndim))))
    return (norms - 1.0) ** 2


def info_wgan_gp_losses(
    params,
    batch,
    rng,
    *,
    model,
    step,
    value_weight: float = 1.0,
    gradient_weight: float = 10.0,
    latent_weight: float = 200.0,
    quantization_weight: float = 0.0,
    commitment_weight: float = 0.0,
):
    """InfoWGAN-GP as the QLAE code's `InfoGAN` (`batched_encoder_loss`, `batched_generator_loss`):

    critic:     L_C = E_B[ λ_v (v(x̃) − v(x)) + λ_gp (‖∇v(x̂)‖ − 1)² + λ_z ℓ_z ]
    generator:  L_G = E_B[ −λ_v v(x̃) + λ_z ℓ_z ]

    with z ~ the model's prior, x̃ = sigmoid(G(z)), x̂ = ε x + (1 − ε) x̃ (ε ~ U(0, 1) per image),
    ℓ_z = mean_l (ẑ_l(x̃) − z_l)² the latent reconstruction of the critic's code head. With a
    quantized code (QLInfoWGAN-GP) both losses add λ_q mean_l (sg(z_c) − z_q)² + λ_c mean_l
    (z_c − sg(z_q))² of the critic's continuous code z_c and its quantization z_q on x̃.
    Streams: z from the `latent` stream of split(rng)[0], ε from split(rng)[1].

    `model` is one Linen module with params `{"generator": ..., "critic": ...}` (a quantizer's
    codebook inside the generator, which QLAE optimises with it) and methods
    `sample_latents(n) -> z [n, L]`, `generate(z) -> logits [n, H, W, C]` and
    `criticize(x) -> (v [n], codes)`, codes with `z_hat` `[n, L]` (and `z_continuous`,
    `z_quantized` when quantized). Returns `({"critic": L_C, "generator": L_G}, metrics)`; `loss`
    is L_G. `step` is unused.
    """
    del step
    latent_rng, epsilon_rng = jax.random.split(rng)
    x = batch["image"]
    n = x.shape[0]
    variables = {"params": params}
    z = model.apply(variables, n, method=model.sample_latents, rngs={"latent": latent_rng})
    x_fake = jax.nn.sigmoid(model.apply(variables, z, method=model.generate))
    value_fake, codes = model.apply(variables, x_fake, method=model.criticize)
    value_real, _ = model.apply(variables, x, method=model.criticize)
    epsilon = jax.random.uniform(epsilon_rng, (n,) + (1,) * (x.ndim - 1))
    x_interpolated = epsilon * x + (1.0 - epsilon) * x_fake

    def value_fn(images):
        return model.apply(variables, images, method=model.criticize)[0]

    penalty = gradient_penalty(value_fn, x_interpolated)
    latent = jnp.mean((codes["z_hat"] - z) ** 2, axis=-1)
    code_terms = jnp.zeros_like(latent)
    metrics = {}
    if "z_quantized" in codes:
        z_c, z_q = codes["z_continuous"], codes["z_quantized"]
        quantization = jnp.mean((jax.lax.stop_gradient(z_c) - z_q) ** 2, axis=-1)
        commitment = jnp.mean((z_c - jax.lax.stop_gradient(z_q)) ** 2, axis=-1)
        code_terms = quantization_weight * quantization + commitment_weight * commitment
        metrics = {
            "loss/quantization": jnp.mean(quantization),
            "loss/commitment": jnp.mean(commitment),
        }
    critic = jnp.mean(
        value_weight * (value_fake - value_real)
        + gradient_weight * penalty
        + latent_weight * latent
        + code_terms
    )
    generator = jnp.mean(-value_weight * value_fake + latent_weight * latent + code_terms)
    return {"critic": critic, "generator": generator}, {
        "loss": generator,
        "loss/critic": critic,
        "loss/value": jnp.mean(value_fake - value_real),
        "loss/gradient_penalty": jnp.mean(penalty),
        "loss/latent": jnp.mean(latent),
        **metrics,
    }


def _schedule(n_critic: int) -> dict:
    """n_critic critic updates, each on its own batch, then one generator update (its batch is
    the last critic batch, of which it uses only the size, as the QLAE code)."""
    return {
        "schedule": (("critic",),) * n_critic + (("generator",),),
        "batches_per_step": n_critic,
        "batch_index": (*range(n_critic), n_critic - 1),
    }


def info_wgan_gp(n_critic: int = N_CRITIC) -> MultiPlayer:
    """InfoWGAN-GP: `info_wgan_gp_losses` (λ_v 1, λ_gp 10, λ_z 200) with `n_critic` critic
    updates per generator update; a step's batch is `[n_critic, B, ...]`. The QLAE optimiser
    for both players is Adam(2e-4, β1 0, β2 0.9) (AdamW with weight decay 1e-4 on weights)."""
    return MultiPlayer(loss_fn=info_wgan_gp_losses, **_schedule(n_critic))


def ql_info_wgan_gp(n_critic: int = N_CRITIC) -> MultiPlayer:
    """QLInfoWGAN-GP: InfoWGAN-GP on a quantized code, with quantization and commitment weights
    0.01 each (QLAE `params/quantized_info_gan`; weight decay 1e-3 on weights)."""

    losses = functools.partial(
        info_wgan_gp_losses, quantization_weight=0.01, commitment_weight=0.01
    )
    return MultiPlayer(loss_fn=losses, **_schedule(n_critic))
