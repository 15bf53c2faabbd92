"""Multilayer perceptrons on vectors: a plain one and a time-conditioned denoiser."""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp


class MLP(nn.Module):
    """x `[B, D]` -> `[B, outputs]`: Dense(w) + activation for each w in `widths`, then a linear
    Dense(outputs)."""

    widths: Sequence[int]
    outputs: int
    activation: str = "relu"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = getattr(nn, self.activation)
        for width in self.widths:
            x = act(nn.Dense(width)(x))
        return nn.Dense(self.outputs)(x)


def timestep_embedding(t: jax.Array, dim: int, max_period: float = 10_000.0) -> jax.Array:
    """t `[B]` (integer steps) -> `[B, dim]`: [cos(t·ω_k), sin(t·ω_k)], ω_k = max_period^(−k/h),
    k < h = dim/2 (the Transformer's sinusoids, as DDPM embeds its step)."""
    half = dim // 2
    freqs = jnp.exp(-jnp.log(max_period) * jnp.arange(half) / half)
    angles = t.astype(jnp.float32)[:, None] * freqs[None]
    return jnp.concatenate([jnp.cos(angles), jnp.sin(angles)], axis=-1)


class Denoiser(nn.Module):
    """(x_t `[B, D]`, t `[B]`) -> ε̂ `[B, D]`: an `MLP` (SiLU) on [x_t, embedding(t)]."""

    widths: Sequence[int]
    embedding_dim: int = 32

    @nn.compact
    def __call__(self, x: jax.Array, t: jax.Array) -> jax.Array:
        h = jnp.concatenate([x, timestep_embedding(t, self.embedding_dim)], axis=-1)
        return MLP(self.widths, x.shape[-1], activation="silu")(h)
