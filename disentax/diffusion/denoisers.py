"""Denoisers as Linen modules, `(x_t, t[, c]) -> output` with x_t's shape (ε, x_0 or v; see
`parameterisation`); t `[B]` int32 steps; c class labels `[B]` int32 (the null class for condition
dropout is `num_classes`) or tokens `[B, L, d]` (UNet, attended by cross-attention).

- `ResidualMLP`: vectors `[B, D]` (1-D/2-D toy data): pre-LN residual blocks, each adding a
  projection of the step (and class) embedding.
- `UNet`: images `[B, H, W, C]` (H, W divisible by 2^(levels−1)): DDPM's U-Net in small — residual
  blocks with GroupNorm and the embedding added between their convolutions, self-attention (and
  cross-attention to tokens) at `attention_levels` and in the middle, strided-conv down- and
  nearest-neighbour upsampling, skip connections by concatenation.
- `DiT` (Peebles & Xie 2023): images as p×p patches with fixed 2-D sin-cos positions, transformer
  blocks with adaLN-Zero modulation by the step (and class) embedding, a linear unpatchify.
Every module's output layer starts at zero, so an untrained denoiser predicts 0. `tiny()` gives
each one's test-sized variant.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from disentax.errors import UserError

CONDITIONS = ("none", "class", "tokens")
ACTIVATIONS = {"silu": nn.silu, "leaky_relu": nn.leaky_relu, "relu": nn.relu, "gelu": nn.gelu}


def timestep_embedding(t: jax.Array, dim: int, max_period: float = 10_000.0) -> jax.Array:
    """t `[B]` (integer steps) -> `[B, dim]`: [cos(t·ω_k), sin(t·ω_k)], ω_k = max_period^(−k/h),
    k < h = dim/2 (the Transformer's sinusoids, as DDPM embeds its step)."""
    half = dim // 2
    freqs = jnp.exp(-jnp.log(max_period) * jnp.arange(half) / half)
    angles = t.astype(jnp.float32)[:, None] * freqs[None]
    return jnp.concatenate([jnp.cos(angles), jnp.sin(angles)], axis=-1)


class StepEmbedding(nn.Module):
    """t `[B]` (and class c `[B]`) -> `[B, dim]`: MLP(sinusoids(t)) (+ Embed(c), `num_classes`
    classes and the null class)."""

    dim: int
    num_classes: int | None = None

    @nn.compact
    def __call__(self, t, c=None):
        e = timestep_embedding(t, self.dim)
        e = nn.Dense(self.dim)(nn.silu(nn.Dense(self.dim)(e)))
        if self.num_classes is not None:
            if c is None:
                raise UserError("this denoiser is class-conditional: call it with labels c")
            e = e + nn.Embed(self.num_classes + 1, self.dim)(c)
        return e


def _check_condition(condition: str, num_classes) -> None:
    if condition not in CONDITIONS:
        raise UserError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")
    if (condition == "class") != (num_classes is not None):
        raise UserError("condition 'class' needs num_classes, and num_classes needs it")


class ResidualMLP(nn.Module):
    """`[B, D]` -> `[B, D]` (module docstring): h = W_in x, then `depth` times
    h ← h + W_2 φ(W_1 φ(LN(h)) + W_e e(t)), output W_out φ(LN(h)); φ the `activation`
    ("silu", the default; "leaky_relu" φ(a) = max(a, 0.01 a) as in P39's toy denoiser; "relu",
    "gelu"). The step embedding's own MLP keeps SiLU."""

    width: int = 128
    depth: int = 3
    embedding_dim: int = 64
    num_classes: int | None = None
    activation: str = "silu"

    @classmethod
    def tiny(cls, **overrides):
        return cls(**{"width": 32, "depth": 2, "embedding_dim": 16, **overrides})

    @nn.compact
    def __call__(self, x, t, c=None):
        if self.activation not in ACTIVATIONS:
            known = ", ".join(ACTIVATIONS)
            raise UserError(f"unknown activation {self.activation!r}; known: {known}")
        act = ACTIVATIONS[self.activation]
        emb = StepEmbedding(self.embedding_dim, self.num_classes)(t, c)
        h = nn.Dense(self.width)(x)
        for _ in range(self.depth):
            r = nn.Dense(self.width)(act(nn.LayerNorm()(h))) + nn.Dense(self.width)(emb)
            h = h + nn.Dense(self.width)(act(r))
        out = nn.Dense(x.shape[-1], kernel_init=nn.initializers.zeros)
        return out(act(nn.LayerNorm()(h)))


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(num_groups=min(8, channels))


class ResBlock(nn.Module):
    channels: int

    @nn.compact
    def __call__(self, x, emb):
        h = nn.Conv(self.channels, (3, 3))(nn.silu(_norm(x.shape[-1])(x)))
        h = h + nn.Dense(self.channels)(nn.silu(emb))[:, None, None, :]
        h = nn.Conv(self.channels, (3, 3))(nn.silu(_norm(self.channels)(h)))
        if x.shape[-1] != self.channels:
            x = nn.Conv(self.channels, (1, 1))(x)
        return x + h


class AttentionBlock(nn.Module):
    """Self-attention over the pixels, then (with tokens) cross-attention to them; residual."""

    num_heads: int

    @nn.compact
    def __call__(self, x, tokens=None):
        b, h, w, ch = x.shape
        seq = _norm(ch)(x).reshape(b, h * w, ch)
        seq = nn.MultiHeadDotProductAttention(self.num_heads)(seq)
        x = x + seq.reshape(x.shape)
        if tokens is not None:
            q = nn.LayerNorm()(x.reshape(b, h * w, ch))
            attended = nn.MultiHeadDotProductAttention(self.num_heads)(q, tokens)
            x = x + attended.reshape(x.shape)
        return x


class UNet(nn.Module):
    """`[B, H, W, C]` -> `[B, H, W, C]` (module docstring)."""

    channels: Sequence[int] = (32, 64, 128)
    blocks_per_level: int = 1
    attention_levels: Sequence[int] = (2,)
    num_heads: int = 4
    embedding_dim: int = 128
    condition: str = "none"
    num_classes: int | None = None

    @classmethod
    def tiny(cls, **overrides):
        settings = {"channels": (8, 16), "attention_levels": (1,), "num_heads": 2}
        return cls(**{**settings, "embedding_dim": 16, **overrides})

    @nn.compact
    def __call__(self, x, t, c=None):
        _check_condition(self.condition, self.num_classes)
        levels = len(self.channels)
        if x.ndim != 4 or x.shape[1] % 2 ** (levels - 1) or x.shape[2] % 2 ** (levels - 1):
            raise UserError(
                f"UNet with {levels} levels needs images [B, H, W, C] with H, W divisible by "
                f"{2 ** (levels - 1)}, got {x.shape}"
            )
        tokens = c if self.condition == "tokens" else None
        labels = c if self.condition == "class" else None
        emb = StepEmbedding(self.embedding_dim, self.num_classes)(t, labels)

        def attend(h, level):
            if level in self.attention_levels:
                return AttentionBlock(self.num_heads)(h, tokens)
            return h

        h = nn.Conv(self.channels[0], (3, 3))(x)
        skips = [h]
        for level, ch in enumerate(self.channels):
            for _ in range(self.blocks_per_level):
                h = attend(ResBlock(ch)(h, emb), level)
                skips.append(h)
            if level < levels - 1:
                h = nn.Conv(ch, (3, 3), strides=(2, 2))(h)
                skips.append(h)
        h = ResBlock(self.channels[-1])(h, emb)
        h = AttentionBlock(self.num_heads)(h, tokens)
        h = ResBlock(self.channels[-1])(h, emb)
        for level in reversed(range(levels)):
            for _ in range(self.blocks_per_level + 1):
                h = ResBlock(self.channels[level])(jnp.concatenate([h, skips.pop()], -1), emb)
                h = attend(h, level)
            if level > 0:
                h = jnp.repeat(jnp.repeat(h, 2, axis=1), 2, axis=2)
                h = nn.Conv(self.channels[level], (3, 3))(h)
        h = nn.silu(_norm(h.shape[-1])(h))
        return nn.Conv(x.shape[-1], (3, 3), kernel_init=nn.initializers.zeros)(h)


def sincos_positions(grid: int, dim: int) -> np.ndarray:
    """Fixed 2-D sin-cos positions of a grid×grid patch raster: `[grid², dim]`, half the channels
    encoding the row and half the column with the Transformer's sinusoids."""
    rows, cols = np.divmod(np.arange(grid * grid), grid)
    quarter = dim // 4
    freqs = 1.0 / 10_000 ** (np.arange(quarter) / quarter)
    parts = [f(p[:, None] * freqs) for p in (rows, cols) for f in (np.sin, np.cos)]
    return np.concatenate(parts, 1).astype(np.float32)


def _modulate(x, shift, scale):
    return x * (1 + scale[:, None]) + shift[:, None]


class DiTBlock(nn.Module):
    num_heads: int

    @nn.compact
    def __call__(self, x, emb):
        d = x.shape[-1]
        mod = nn.Dense(6 * d, kernel_init=nn.initializers.zeros)(nn.silu(emb))
        shift1, scale1, gate1, shift2, scale2, gate2 = jnp.split(mod, 6, axis=-1)
        norm = nn.LayerNorm(use_bias=False, use_scale=False)
        a = nn.MultiHeadDotProductAttention(self.num_heads)(_modulate(norm(x), shift1, scale1))
        x = x + gate1[:, None] * a
        h = _modulate(norm(x), shift2, scale2)
        h = nn.Dense(d)(nn.gelu(nn.Dense(4 * d)(h)))
        return x + gate2[:, None] * h


class DiT(nn.Module):
    """`[B, H, W, C]` -> `[B, H, W, C]`, H = W divisible by `patch` (module docstring)."""

    patch: int = 2
    hidden: int = 128
    depth: int = 4
    num_heads: int = 4
    num_classes: int | None = None

    @classmethod
    def tiny(cls, **overrides):
        return cls(**{"patch": 2, "hidden": 32, "depth": 2, "num_heads": 2, **overrides})

    @nn.compact
    def __call__(self, x, t, c=None):
        b, height, width, ch = x.shape
        p = self.patch
        if height != width or height % p:
            raise UserError(f"DiT needs square images divisible by patch {p}, got {x.shape}")
        grid = height // p
        h = nn.Conv(self.hidden, (p, p), strides=(p, p), padding="VALID")(x)
        h = h.reshape(b, grid * grid, self.hidden) + sincos_positions(grid, self.hidden)
        emb = StepEmbedding(self.hidden, self.num_classes)(t, c)
        for _ in range(self.depth):
            h = DiTBlock(self.num_heads)(h, emb)
        shift, scale = jnp.split(nn.Dense(2 * self.hidden, kernel_init=nn.initializers.zeros)(
            nn.silu(emb)), 2, axis=-1)  # fmt: skip
        h = _modulate(nn.LayerNorm(use_bias=False, use_scale=False)(h), shift, scale)
        h = nn.Dense(p * p * ch, kernel_init=nn.initializers.zeros)(h)
        h = h.reshape(b, grid, grid, p, p, ch).transpose(0, 1, 3, 2, 4, 5)
        return h.reshape(b, height, width, ch)


def count_parameters(params) -> int:
    return sum(int(np.prod(a.shape)) for a in jax.tree.leaves(params))
