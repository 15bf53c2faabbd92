"""Noise schedules of the forward process q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I).

Steps are indexed t = 0..T−1 (the papers' t = 1..T); ᾱ_t = Π_{s ≤ t} (1 − β_s) and ᾱ_{−1} = 1.
The posterior of one reverse step is q(x_{t−1} | x_t, x_0) = N(μ̃_t, β̃_t I) with
  μ̃_t = β_t √ᾱ_{t−1} / (1 − ᾱ_t) · x_0 + (1 − ᾱ_{t−1}) √α_t / (1 − ᾱ_t) · x_t,
  β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t)   (so β̃_0 = 0).
A `Schedule` is a pytree of arrays: it can be a traced argument, and vmapped over.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from disentax.errors import UserError


class Schedule(NamedTuple):
    """β_t `[T]` and ᾱ_t `[T]` (float32); every other quantity is derived from them."""

    betas: jax.Array
    alpha_bars: jax.Array

    @property
    def num_timesteps(self) -> int:
        return self.betas.shape[-1]

    @property
    def alpha_bars_prev(self) -> jax.Array:
        """ᾱ_{t−1}, with ᾱ_{−1} = 1."""
        return jnp.concatenate(
            [jnp.ones_like(self.alpha_bars[..., :1]), self.alpha_bars[..., :-1]], -1
        )

    @property
    def posterior_variance(self) -> jax.Array:
        """β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t)."""
        return self.betas * (1 - self.alpha_bars_prev) / (1 - self.alpha_bars)

    def posterior_mean_coefficients(self) -> tuple[jax.Array, jax.Array]:
        """(c_0, c_t) with μ̃_t = c_0 x_0 + c_t x_t."""
        ab, ab_prev = self.alpha_bars, self.alpha_bars_prev
        return (
            self.betas * jnp.sqrt(ab_prev) / (1 - ab),
            (1 - ab_prev) * jnp.sqrt(1 - self.betas) / (1 - ab),
        )

    def reverse_variance(self, kind: str) -> jax.Array:
        """σ_t² of the ancestral sampler: "small" β̃_t or "large" β_t (DDPM's two fixed choices),
        each with its value at t = 0 replaced by β̃_1 (DDPM's clipped log-variance), so every
        σ_t > 0 and the DPM-Encoder can invert every step; the sampler adds no noise at t = 0."""
        if kind not in VARIANCES:
            raise UserError(f"unknown reverse variance {kind!r}; known: {', '.join(VARIANCES)}")
        var = self.posterior_variance if kind == "small" else self.betas
        return var.at[..., 0].set(self.posterior_variance[..., 1])

    def noise(self, x0: jax.Array, t: jax.Array, eps: jax.Array) -> jax.Array:
        """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, t `[B]` (one step per example)."""
        a = per_example(self.alpha_bars[t], x0)
        return jnp.sqrt(a) * x0 + jnp.sqrt(1 - a) * eps


VARIANCES = ("small", "large")


def per_example(values: jax.Array, like: jax.Array) -> jax.Array:
    """`[B]` -> `[B, 1, …, 1]` broadcasting against `like` `[B, …]`."""
    return jnp.reshape(values, values.shape + (1,) * (like.ndim - values.ndim))


def from_betas(betas) -> Schedule:
    betas = jnp.asarray(betas, jnp.float32)
    if betas.ndim != 1 or betas.shape[0] < 2:
        raise UserError(f"a schedule needs betas of shape [T] with T >= 2, got {betas.shape}")
    return Schedule(betas, jnp.cumprod(1 - betas))


def linear(num_timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> Schedule:
    """β_t linear from `beta_start` to `beta_end` (DDPM: 1e-4..0.02 at T = 1000)."""
    if not 0 < beta_start <= beta_end < 1:
        raise UserError(
            f"a linear schedule needs 0 < beta_start <= beta_end < 1, got {beta_start}, {beta_end}"
        )
    return from_betas(jnp.linspace(beta_start, beta_end, num_timesteps, dtype=jnp.float32))


def cosine(num_timesteps: int, offset: float = 0.008, max_beta: float = 0.999) -> Schedule:
    """Nichol & Dhariwal's cosine schedule: ᾱ(τ) = f(τ)/f(0), f(τ) = cos²((τ/T + s)/(1 + s)·π/2),
    β_t = min(1 − ᾱ(t + 1)/ᾱ(t), `max_beta`), s = `offset`; ᾱ_t = Π (1 − β_s) of the clipped β."""
    tau = jnp.arange(num_timesteps + 1, dtype=jnp.float64 if jax.config.x64_enabled else None)
    f = jnp.cos((tau / num_timesteps + offset) / (1 + offset) * jnp.pi / 2) ** 2
    return from_betas(jnp.minimum(1 - f[1:] / f[:-1], max_beta))


def make(kind: str, num_timesteps: int, **kwargs) -> Schedule:
    """The schedule `kind` ("linear" or "cosine") with its keyword arguments."""
    if kind not in SCHEDULES:
        raise UserError(f"unknown noise schedule {kind!r}; known: {', '.join(SCHEDULES)}")
    if not isinstance(num_timesteps, int) or num_timesteps < 2:
        raise UserError(f"num_timesteps must be an integer >= 2, got {num_timesteps!r}")
    return SCHEDULES[kind](num_timesteps, **kwargs)


SCHEDULES = {"linear": linear, "cosine": cosine}
