"""Latent layers of the QLAE code (scalar / global / vector quantized, BioAE, diagonal Gaussian),
and the Gaussian reparameterisation every Gaussian encoder samples with.

Each layer maps the encoder output `h [B, N]` to `(z, aux)`: `z` is what the decoder reads, `aux`
holds the named codes. The quantizers return `z = z_c + sg(z_q − z_c)` (straight-through: the
value of z_q, the gradient of the identity to z_c) with aux `z_continuous` (z_c), `z_quantized`
(z_q, through which alone the codebook gets gradients) and `z_indices` (int32 `[B, L]`).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp


def gaussian_sample(mu: jax.Array, logvar: jax.Array, eps: jax.Array) -> jax.Array:
    """z = μ + exp(logvar / 2)·ε: a sample of N(μ, diag(exp(logvar))) from standard normal noise ε
    (broadcasting), differentiable in μ and logvar (the reparameterisation trick)."""
    return mu + jnp.exp(0.5 * logvar) * eps


def straight_through(z_continuous: jax.Array, z_quantized: jax.Array) -> jax.Array:
    """ẑ = z_c + sg(z_q − z_c): the value of z_q, d ẑ / d z_c = I, no gradient to z_q."""
    return z_continuous + jax.lax.stop_gradient(z_quantized - z_continuous)


def _quantized(z_continuous, z_quantized, z_indices):
    aux = {
        "z_continuous": z_continuous,
        "z_quantized": z_quantized,
        "z_indices": z_indices.astype(jnp.int32),
    }
    return straight_through(z_continuous, z_quantized), aux


class ScalarQuantizer(nn.Module):
    """Per-dimension scalar codebooks (QLAE `QuantizedLatent`): `h [B, L] -> (ẑ [B, L], aux)`.

    Latent j has its own `codebook[j]` of `num_values` scalars, initialised
    `linspace(-0.5, 0.5, num_values)`; z_q,j = v_j,k with k = argmin_k |h_j − v_j,k| (`z_indices`).
    `learn_values=False` stops the codebook's gradient (`optimize_values=False`).
    """

    num_values: int = 10
    learn_values: bool = True

    @nn.compact
    def __call__(self, h_BxL: jax.Array):
        num_latents = h_BxL.shape[-1]
        codebook_LxV = self.param(
            "codebook",
            lambda _, shape: jnp.broadcast_to(jnp.linspace(-0.5, 0.5, shape[1]), shape),
            (num_latents, self.num_values),
        )
        if not self.learn_values:
            codebook_LxV = jax.lax.stop_gradient(codebook_LxV)
        indices_BxL = jnp.argmin(jnp.abs(h_BxL[:, :, None] - codebook_LxV[None]), axis=-1)
        z_q = jnp.take_along_axis(codebook_LxV[None], indices_BxL[:, :, None], axis=-1)[..., 0]
        return _quantized(h_BxL, z_q, indices_BxL)


class GlobalQuantizer(nn.Module):
    """One scalar codebook shared by all latents (QLAE `GlobalQuantizedLatent`, the "w/ global
    codebook" ablation): `h [B, L] -> (ẑ [B, L], aux)`, codebook `[num_values]` initialised
    `linspace(-0.5, 0.5)`, z_q,j = v_k with k = argmin_k |h_j − v_k|."""

    num_values: int = 10

    @nn.compact
    def __call__(self, h_BxL: jax.Array):
        codebook_V = self.param(
            "codebook", lambda _, shape: jnp.linspace(-0.5, 0.5, shape[0]), (self.num_values,)
        )
        indices_BxL = jnp.argmin(jnp.abs(h_BxL[:, :, None] - codebook_V), axis=-1)
        return _quantized(h_BxL, codebook_V[indices_BxL], indices_BxL)


class VectorQuantizer(nn.Module):
    """VQ-VAE latent as the QLAE code's `VectorQuantizedLatent`: `h [B, L·D] -> (ẑ [B, L·D], aux)`.

    h is read as L vectors of D = `code_dim` (64); each is replaced by its nearest (squared
    Euclidean) row of one codebook `[num_codes, D]` (512 × 64) that all L latents share, initialised
    U(±√(3/D)). `z_continuous` and `z_quantized` are `[B, L, D]`, `z_indices` `[B, L]`.
    """

    num_codes: int = 512
    code_dim: int = 64

    @nn.compact
    def __call__(self, h_BxN: jax.Array):
        codebook_KxD = self.param(
            "codebook",
            # U(±√(3/D)): unit variance scaling over the code dimension D.
            nn.initializers.variance_scaling(1.0, "fan_in", "uniform", in_axis=-1, out_axis=-2),
            (self.num_codes, self.code_dim),
        )
        z_c = h_BxN.reshape(h_BxN.shape[0], -1, self.code_dim)
        distance_BxLxK = jnp.sum(jnp.square(z_c[:, :, None, :] - codebook_KxD), axis=-1)
        indices_BxL = jnp.argmin(distance_BxLxK, axis=-1)
        z_hat, aux = _quantized(z_c, codebook_KxD[indices_BxL], indices_BxL)
        return z_hat.reshape(h_BxN.shape), aux


class BioLatent(nn.Module):
    """BioAE's latent: `h [B, L] -> (z [B, L], {})`.

    The QLAE code's BioAE uses the identity (a `ContinuousLatent`); non-negativity comes from the
    objective's penalty mean(max(−z, 0)). `relu=True` makes z = max(h, 0) non-negative by
    construction (the penalty is then zero).
    """

    relu: bool = False

    def __call__(self, h_BxL: jax.Array):
        return (nn.relu(h_BxL) if self.relu else h_BxL), {}


class DiagonalGaussian(nn.Module):
    """The QLAE code's `DiagonalGaussianLatent`: `h [B, 2L] -> (z [B, L], aux)`.

    (μ, s) = split(h), σ = softplus(s); z = μ + σ·ε with ε ~ N(0, I) from the `latent` RNG stream
    when `sample`, else z = μ. aux: `mu`, `logvar` = 2 log σ.
    """

    def __call__(self, h_Bx2L: jax.Array, *, sample: bool = False):
        mu, s = jnp.split(h_Bx2L, 2, axis=-1)
        sigma = jax.nn.softplus(s)
        z = mu
        if sample:
            z = mu + sigma * jax.random.normal(self.make_rng("latent"), mu.shape, mu.dtype)
        return z, {"mu": mu, "logvar": 2.0 * jnp.log(sigma)}
