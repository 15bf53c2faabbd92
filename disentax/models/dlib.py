"""disentanglement_lib's architectures (conv and FC VAEs, FactorVAE discriminator) in Linen."""

import math
from collections.abc import Sequence

import flax.linen as nn
import jax

from disentax.errors import UserError
from disentax.models.latents import gaussian_sample
from disentax.models.layers import Stride2Conv, SubpixelConvTranspose

# TF1 `tf.layers` initialise kernels Glorot-uniform and biases at zero.
glorot = nn.initializers.glorot_uniform()


class ConvEncoder(nn.Module):
    """x `[B, 64, 64, C]` -> (mu `[B, L]`, logvar `[B, L]`).

    disentanglement_lib `conv_encoder`: Conv 32 k4 s2, Conv 32 k4 s2, Conv 64 k2 s2,
    Conv 64 k2 s2 (ReLU, SAME), flatten, Dense 256 ReLU, then two linear heads.
    `strided_conv="lax"` calls `nn.Conv`; `"subpixel"` (`Stride2Conv`, same parameters) computes
    the input gradient as a stride-1 convolution on space-to-depth maps: the β-VAE step 1.13×
    (jax 0.10) to 1.28× (jax 0.12) faster on XLA:CPU (`experiments/benchmarks/train_step.py`).
    Not the default: a vmapped population sharded over ("pop", "data") then ends 4e-4 away from
    the same population on one device after two steps (1e-5 with `"lax"`), not yet explained.
    """

    num_latents: int
    features: Sequence[int] = (32, 32, 64, 64)
    kernels: Sequence[int] = (4, 4, 2, 2)
    hidden: int = 256
    strided_conv: str = "lax"

    @nn.compact
    def __call__(self, x):
        for i, (f, k) in enumerate(zip(self.features, self.kernels, strict=True)):
            x = nn.relu(self.downsample(f, k, f"e{i + 1}")(x))
        x = x.reshape(x.shape[0], -1)
        x = nn.relu(nn.Dense(self.hidden, kernel_init=glorot, name="e5")(x))
        mu = nn.Dense(self.num_latents, kernel_init=glorot, name="means")(x)
        logvar = nn.Dense(self.num_latents, kernel_init=glorot, name="log_var")(x)
        return mu, logvar

    def downsample(self, features: int, kernel: int, name: str) -> nn.Module:
        if self.strided_conv == "subpixel":
            return Stride2Conv(features, kernel, kernel_init=glorot, name=name)
        if self.strided_conv == "lax":
            return nn.Conv(
                features, (kernel, kernel), (2, 2), padding="SAME", kernel_init=glorot, name=name
            )
        raise UserError(f"strided_conv must be 'subpixel' or 'lax', got {self.strided_conv!r}")


class DeconvDecoder(nn.Module):
    """z `[B, L]` -> Bernoulli logits `[B, H, W, C]`.

    disentanglement_lib `deconv_decoder`: Dense 256 ReLU, Dense 1024 ReLU, reshape 4x4x64,
    ConvT 64, 32, 32 (k4 s2 ReLU), ConvT C (k4 s2, linear). Transposed convolutions are
    the gradient of a SAME convolution (`transpose_kernel=True`), as TF's `conv2d_transpose`.
    `transposed_conv="subpixel"` computes each one as an equal 3×3 convolution + depth-to-space
    (same parameters, several times faster to differentiate on XLA:CPU); `"lax"` calls
    `nn.ConvTranspose`.
    """

    output_shape: Sequence[int]
    features: Sequence[int] = (64, 32, 32)
    base_features: int = 64
    hidden: int = 256
    transposed_conv: str = "subpixel"

    @nn.compact
    def __call__(self, z):
        h, w, c = self.output_shape
        scale = 2 ** (len(self.features) + 1)
        x = nn.relu(nn.Dense(self.hidden, kernel_init=glorot, name="d1")(z))
        x = nn.relu(
            nn.Dense(h // scale * w // scale * self.base_features, kernel_init=glorot, name="d2")(x)
        )
        x = x.reshape(z.shape[0], h // scale, w // scale, self.base_features)
        for i, f in enumerate((*self.features, c)):
            x = self.upsample(f, f"d{i + 3}")(x)
            if i < len(self.features):
                x = nn.relu(x)
        return x

    def upsample(self, features: int, name: str) -> nn.Module:
        if self.transposed_conv == "subpixel":
            return SubpixelConvTranspose(features, kernel_init=glorot, name=name)
        if self.transposed_conv == "lax":
            return nn.ConvTranspose(
                features,
                (4, 4),
                (2, 2),
                padding="SAME",
                transpose_kernel=True,
                kernel_init=glorot,
                name=name,
            )
        raise UserError(
            f"transposed_conv must be 'subpixel' or 'lax', got {self.transposed_conv!r}"
        )


class GaussianVAE(nn.Module):
    """Encoder -> z = mu + exp(logvar / 2) * eps -> decoder.

    `__call__(x, *, train)` returns `(logits, aux)` with aux keys `z`, `mu`, `logvar`. With
    `train=True` z is sampled (needs the `latent` RNG stream); otherwise z = mu, the mean
    representation.
    """

    num_latents: int = 10
    channels: int = 1
    image_size: int = 64
    encoder_features: Sequence[int] = (32, 32, 64, 64)
    encoder_kernels: Sequence[int] = (4, 4, 2, 2)
    decoder_features: Sequence[int] = (64, 32, 32)
    hidden: int = 256
    transposed_conv: str = "subpixel"
    strided_conv: str = "lax"

    def setup(self):
        self.encoder = ConvEncoder(
            self.num_latents,
            self.encoder_features,
            self.encoder_kernels,
            self.hidden,
            self.strided_conv,
        )
        self.decoder = DeconvDecoder(
            (self.image_size, self.image_size, self.channels),
            self.decoder_features,
            self.encoder_features[-1],
            self.hidden,
            self.transposed_conv,
        )

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def __call__(self, x, *, train: bool = False):
        mu, logvar = self.encoder(x)
        if train:
            eps = jax.random.normal(self.make_rng("latent"), mu.shape, mu.dtype)
            z = gaussian_sample(mu, logvar, eps)
        else:
            z = mu
        return self.decoder(z), {"z": z, "mu": mu, "logvar": logvar}


class FCEncoder(nn.Module):
    """x `[B, H, W, C]` -> (mu `[B, L]`, logvar `[B, L]`).

    disentanglement_lib `fc_encoder`: flatten, Dense 1200 ReLU, Dense 1200 ReLU, then two linear
    heads.
    """

    num_latents: int
    features: Sequence[int] = (1200, 1200)

    @nn.compact
    def __call__(self, x):
        x = x.reshape(x.shape[0], -1)
        for i, f in enumerate(self.features):
            x = nn.relu(nn.Dense(f, kernel_init=glorot, name=f"e{i + 1}")(x))
        mu = nn.Dense(self.num_latents, kernel_init=glorot, name="means")(x)
        logvar = nn.Dense(self.num_latents, kernel_init=glorot, name="log_var")(x)
        return mu, logvar


class FCDecoder(nn.Module):
    """z `[B, L]` -> Bernoulli logits `[B, H, W, C]`.

    disentanglement_lib `fc_decoder`: Dense 1200 tanh ×3, then a linear Dense to H·W·C.
    """

    output_shape: Sequence[int]
    features: Sequence[int] = (1200, 1200, 1200)

    @nn.compact
    def __call__(self, z):
        x = z
        for i, f in enumerate(self.features):
            x = nn.tanh(nn.Dense(f, kernel_init=glorot, name=f"d{i + 1}")(x))
        size = math.prod(self.output_shape)
        x = nn.Dense(size, kernel_init=glorot, name=f"d{len(self.features) + 1}")(x)
        return x.reshape(z.shape[0], *self.output_shape)


class FCVAE(nn.Module):
    """`FCEncoder` -> z = mu + exp(logvar / 2) * eps -> `FCDecoder` (disentanglement_lib's
    `fc_encoder` / `fc_decoder` Gaussian VAE).

    Same contract as `GaussianVAE`: `__call__(x, *, train)` returns `(logits, aux)` with aux keys
    `z`, `mu`, `logvar`; z is sampled from the `latent` RNG stream when `train=True`, else z = mu.
    """

    num_latents: int = 10
    channels: int = 1
    image_size: int = 64
    encoder_features: Sequence[int] = (1200, 1200)
    decoder_features: Sequence[int] = (1200, 1200, 1200)

    def setup(self):
        self.encoder = FCEncoder(self.num_latents, self.encoder_features)
        self.decoder = FCDecoder(
            (self.image_size, self.image_size, self.channels), self.decoder_features
        )

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def __call__(self, x, *, train: bool = False):
        mu, logvar = self.encoder(x)
        if train:
            eps = jax.random.normal(self.make_rng("latent"), mu.shape, mu.dtype)
            z = gaussian_sample(mu, logvar, eps)
        else:
            z = mu
        return self.decoder(z), {"z": z, "mu": mu, "logvar": logvar}


class FCDiscriminator(nn.Module):
    """z `[B, L]` -> logits `[B, 2]` (class 0: a sample of q(z), class 1: of Π_j q(z_j)).

    disentanglement_lib `fc_discriminator` (FactorVAE, Kim & Mnih 2018 App. A): flatten, 6 × Dense
    1000 with leaky ReLU (slope 0.2), then a linear Dense 2.
    """

    features: Sequence[int] = (1000,) * 6
    num_classes: int = 2

    @nn.compact
    def __call__(self, z):
        x = z.reshape(z.shape[0], -1)
        for i, f in enumerate(self.features):
            x = nn.leaky_relu(nn.Dense(f, kernel_init=glorot, name=f"d{i + 1}")(x), 0.2)
        return nn.Dense(self.num_classes, kernel_init=glorot, name="logits")(x)
