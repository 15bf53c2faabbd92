"""Reconstruction quality: peak signal-to-noise ratio per image (the QLAE code's PSNR)."""

import jax.numpy as jnp

from disentax.errors import UserError
from disentax.metrics import inputs


def psnr(reconstructions, images, *, max_value: float = 1.0):
    """PSNR_n = 10 · log10(max_value² / MSE_n) dB, MSE_n = mean over the pixels and channels of
    image n of (x̂_n − x_n)²: `reconstructions, images [N, ...] -> [N]`.

    One value per image (no reduction over N: average it for a table, as the QLAE code averages
    `vmap(peak_signal_to_noise_ratio)` over its evaluation set, with x̂ = sigmoid(logits) and
    max_value 1). An exact reconstruction gives +inf. Jittable and vmappable.
    """
    reconstructions = inputs.as_array("reconstructions", reconstructions)
    images = inputs.as_array("images", images)
    if reconstructions.shape != images.shape or images.ndim < 2:
        raise UserError(
            "psnr needs reconstructions and images of one shape [N, ...] (at least 2-D), got "
            f"{tuple(reconstructions.shape)} and {tuple(images.shape)}"
        )
    if not isinstance(max_value, int | float) or max_value <= 0:
        raise UserError(f"max_value must be a positive number, got {max_value!r}")
    error = jnp.square(reconstructions.astype(jnp.float32) - images.astype(jnp.float32))
    mse = jnp.mean(error.reshape(error.shape[0], -1), axis=-1)
    return 10.0 * jnp.log10(jnp.float32(max_value) ** 2 / mse)
