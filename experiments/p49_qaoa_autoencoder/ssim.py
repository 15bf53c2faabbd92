"""SSIM (Wang, Bovik, Sheikh & Simoncelli 2004) and PSNR for small images, in JAX.

With μ, σ², σ_xy the Gaussian-weighted local means, variances and covariance of images x, y
(window w, Σ w = 1; no sample-size correction),

    SSIM(x, y) = mean over window positions of
                 (2 μ_x μ_y + C1)(2 σ_xy + C2) / ((μ_x² + μ_y² + C1)(σ_x² + σ_y² + C2)),

C1 = (K1 L)², C2 = (K2 L)², K1 = 0.01, K2 = 0.03, L = 1 (pixels in [0, 1]): the paper's constants
and its Gaussian σ = 1.5, but a 5×5 window (the paper's 11×11 is larger than an 8×8 image; a 7×7
one would leave 2×2 positions, each nearly the whole image), at the "valid" positions only (4×4
of them on 8×8), as scikit-image's `structural_similarity` with `gaussian_weights` computes it
away from the border.
"""

import functools

import jax.numpy as jnp
import numpy as np

from disentax.errors import UserError

WINDOW = 5
SIGMA = 1.5
K1, K2 = 0.01, 0.03


@functools.cache
def gaussian_1d(size: int = WINDOW, sigma: float = SIGMA) -> np.ndarray:
    """g[i] ∝ exp(−(i − c)² / 2σ²), c the centre, normalised to sum 1: `[size]`; the 2-D window
    is w = g gᵀ (also sums to 1)."""
    if size < 1 or size % 2 == 0 or sigma <= 0:
        raise UserError(f"an SSIM window needs an odd size >= 1 and sigma > 0, got {size}, {sigma}")
    r = np.arange(size) - (size - 1) / 2
    g = np.exp(-(r**2) / (2 * sigma**2))
    return g / g.sum()


@functools.cache
def band(length: int, size: int = WINDOW, sigma: float = SIGMA) -> np.ndarray:
    """A[i, h] = g[h − i] for 0 ≤ h − i < size, else 0: `[length − size + 1, length]`, so that
    A x Aᵀ is the window's weighted sum at every valid position of a `[length, length]` x."""
    g = gaussian_1d(size, sigma)
    a = np.zeros((length - size + 1, length), np.float32)
    for i in range(a.shape[0]):
        a[i, i : i + size] = g
    return a


def _filter(images, rows, cols):
    """Σ_ij w_ij x[a + i, b + j] at every valid position (a, b): `[B, H, W]` ->
    `[B, H − k + 1, W − k + 1]`, as two matrix products."""
    return jnp.einsum("ih,bhw,jw->bij", rows, images, cols)


def ssim_map(x, y, *, data_range: float = 1.0, size: int = WINDOW, sigma: float = SIGMA):
    """The local SSIM at every valid window position of images x, y `[B, H, W]`:
    `[B, H − size + 1, W − size + 1]` (module docstring)."""
    x, y = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32)
    if x.shape != y.shape or x.ndim != 3 or min(x.shape[1:]) < size:
        raise UserError(
            f"SSIM needs two [B, H, W] images of one shape with H, W >= {size}, got {x.shape} "
            f"and {y.shape}"
        )
    rows = jnp.asarray(band(x.shape[1], size, sigma))
    cols = jnp.asarray(band(x.shape[2], size, sigma))
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    mx, my = _filter(x, rows, cols), _filter(y, rows, cols)
    vx = _filter(x * x, rows, cols) - mx * mx
    vy = _filter(y * y, rows, cols) - my * my
    cxy = _filter(x * y, rows, cols) - mx * my
    return ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))


def ssim(x, y, **kwargs):
    """SSIM per image: the mean of `ssim_map` over positions, `[B]`."""
    return jnp.mean(ssim_map(x, y, **kwargs), axis=(-2, -1))


def psnr(x, y, data_range: float = 1.0):
    """10 log10(L² / MSE) per image `[B]` (x, y `[B, ...]`)."""
    axes = tuple(range(1, jnp.ndim(x)))
    mse = jnp.mean((jnp.asarray(x) - jnp.asarray(y)) ** 2, axis=axes)
    return 10.0 * jnp.log10(data_range**2 / mse)
