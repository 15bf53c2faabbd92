"""Latent traversals: codes that sweep one latent at a time, latent order and activity, grids."""

from collections.abc import Callable

import jax.numpy as jnp
import numpy as np

from disentax.errors import UserError
from disentax.viz.images import image_grid

# Burda et al. (2016): latent l is active when Cov_x(E[z_l | x]) > 0.01.
ACTIVITY_THRESHOLD = 0.01


def gaussian_kl(mu_NxL, logvar_NxL) -> np.ndarray:
    """Mean over the sample of KL(N(μ_l, σ_l²) ‖ N(0, 1)) = ½(μ² + σ² − log σ² − 1) per latent,
    in nats: `[N, L], [N, L] -> [L]`."""
    mu, logvar = np.asarray(mu_NxL, np.float64), np.asarray(logvar_NxL, np.float64)
    return np.mean(0.5 * (mu**2 + np.exp(logvar) - logvar - 1.0), axis=0)


def activity(codes_NxLx) -> np.ndarray:
    """Var_x of each latent's mean code (summed over a vector latent's trailing dims), as Burda et
    al.'s active-unit statistic: `[N, L, ...] -> [L]`."""
    codes = np.asarray(codes_NxLx, np.float64)
    return np.var(codes, axis=0).reshape(codes.shape[1], -1).sum(axis=1)


def latent_order(scores_L) -> np.ndarray:
    """Latent indices by decreasing score (ties keep index order): `[L] -> [L]` int."""
    return np.argsort(-np.asarray(scores_L), kind="stable")


def gaussian_values(center_L, scale_L, k: float, steps: int) -> jnp.ndarray:
    """center_l + t·scale_l for t in linspace(−k, k, steps): `[L], [L] -> [L, steps]`. Around the
    prior: center 0, scale 1 (±k σ of N(0, 1)); around a posterior: its μ and σ."""
    t = jnp.linspace(-k, k, steps)
    return jnp.asarray(center_L)[:, None] + t * jnp.asarray(scale_L)[:, None]


def codebook_values(codebook, num_latents: int, *, vector: bool = False) -> jnp.ndarray:
    """Every value a quantized latent can take: per-latent codebooks `[L, V]` as they are, a
    shared scalar codebook `[V]` or (`vector`) a shared vector codebook `[K, D]` repeated per
    latent: `-> [L, V]` or `[L, K, D]`."""
    codebook = jnp.asarray(codebook)
    if vector or codebook.ndim == 1:
        return jnp.broadcast_to(codebook, (num_latents, *codebook.shape))
    if codebook.shape[0] != num_latents:
        raise UserError(
            f"a per-latent codebook must be [num_latents={num_latents}, V], got {codebook.shape}"
        )
    return codebook


def traversal_codes(center, values):
    """Codes z_ls = center with latent l set to values_ls: center `[L, ...]`, values
    `[L, S, ...]` -> `[L, S, L, ...]` (row l sweeps latent l, the others stay at the center)."""
    center, values = jnp.asarray(center), jnp.asarray(values)
    num_latents, steps = values.shape[:2]
    if center.shape[0] != num_latents or values.shape[2:] != center.shape[1:]:
        raise UserError(
            f"traversal values {values.shape} do not fit the center code {center.shape}: "
            "need values [L, S, ...] for a center [L, ...]"
        )
    z = jnp.broadcast_to(center, (num_latents, steps, *center.shape)).astype(values.dtype)
    latents = jnp.arange(num_latents)
    return z.at[latents, :, latents].set(values)


def traversal_images(decode: Callable, center, values) -> np.ndarray:
    """Decoded traversal: `decode` maps codes `[B, ...]` (flattened after the latent axis as
    the decoder reads them) to images `[B, H, W, C]` in [0, 1]; returns `[L, S, H, W, C]`."""
    z = traversal_codes(center, values)
    num_latents, steps = z.shape[:2]
    images = np.asarray(decode(z.reshape(num_latents * steps, -1)))
    return images.reshape(num_latents, steps, *images.shape[1:])


def traversal_grid(images_LxSxHxWxC, order, inactive_L=None) -> np.ndarray:
    """One row per latent in `order`, rows of `inactive` latents framed in red: uint8 image."""
    order = np.asarray(order)
    marks = None if inactive_L is None else np.asarray(inactive_L, bool)[order]
    return image_grid(np.asarray(images_LxSxHxWxC)[order], row_marks=marks)


def traversal_frames(images_LxSxHxWxC, order, inactive_L=None) -> list[np.ndarray]:
    """Frames of an animated traversal: frame s shows every latent (one per column, in `order`)
    at step s, then back (steps S−2 … 1), so the loop is seamless: uint8 images."""
    images = np.asarray(images_LxSxHxWxC)[np.asarray(order)]
    marks = None if inactive_L is None else np.asarray(inactive_L, bool)[np.asarray(order)]
    steps = images.shape[1]
    sequence = [*range(steps), *range(steps - 2, 0, -1)]
    return [image_grid(images[None, :, s], col_marks=marks) for s in sequence]
