"""Data x_0 ~ N(μ, diag(s²)), whose optimal denoiser is known in closed form."""

import jax.numpy as jnp
import numpy as np

MEAN = np.asarray([1.0, -0.5], np.float32)
STD = np.asarray([0.5, 1.5], np.float32)


def exact_epsilon(schedule, mean=MEAN, std=STD):
    """E[ε | x_t] = √(1 − ᾱ_t)(x_t − √ᾱ_t μ) / (ᾱ_t s² + 1 − ᾱ_t), per coordinate."""

    def eps_fn(x, t):
        ab = schedule.alpha_bars[t][:, None]
        return jnp.sqrt(1 - ab) * (x - jnp.sqrt(ab) * mean) / (ab * std**2 + 1 - ab)

    return eps_fn
