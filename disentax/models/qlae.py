"""The QLAE code's image encoder, style decoder and critic, and its autoencoders, in NHWC.

Architecture of kylehkhsu/latent_quantization (`configs/encoder_partial/image.yaml`,
`configs/decoder_partial/style_image.yaml` and their `_small` variants), converted from NCHW:
convolutions use PyTorch padding 1, instance norm is GroupNorm with one channel per group (ε 1e-6),
flattening is in HWC order (a fixed permutation of the first dense kernel's rows). Initialisation
follows Equinox: weights and biases U(±1/√fan_in), affine norms scale 1 and bias 0.

Models follow `__call__(x, *, train=False) -> (logits, aux)`; `encode(x)[0]` is the representation
the QLAE code evaluates (quantized values, VQ-VAE code indices, BioAE codes, the Gaussian mean);
`aux["z"]` is the code `decode` reads (deterministic except in the VAE, whose aux adds `mu`).
"""

import dataclasses
import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from disentax.errors import UserError
from disentax.models.latents import (
    BioLatent,
    DiagonalGaussian,
    GlobalQuantizer,
    ScalarQuantizer,
    VectorQuantizer,
)
from disentax.models.layers import depth_to_space, subpixel_kernel

LEAKY_SLOPE = 0.2
NORM_EPS = 1e-6
TRANSPOSED_CONVS = ("subpixel", "lax")


@dataclasses.dataclass(frozen=True)
class ConvStack:
    """Conv blocks (`features`, square `kernels`, `strides`; padding 1) and dense widths."""

    features: tuple[int, ...]
    kernels: tuple[int, ...]
    strides: tuple[int, ...]
    hidden: tuple[int, ...]

    def __post_init__(self):
        if not len(self.features) == len(self.kernels) == len(self.strides):
            raise UserError(
                f"ConvStack needs one kernel and stride per width, got {len(self.features)} "
                f"widths, {len(self.kernels)} kernels, {len(self.strides)} strides"
            )


# `image.yaml` / `style_image.yaml`: 12 blocks, 64 -> 4 (encoder) and 4 -> 64 (decoder).
ENCODER = ConvStack(
    (32,) * 3 + (64,) * 3 + (128,) * 3 + (256,) * 3, (3, 3, 4) * 4, (1, 1, 2) * 4, (256, 256)
)
DECODER = ConvStack(
    (256,) * 3 + (128,) * 3 + (64,) * 3 + (32,) * 3, (3, 3, 4) * 4, (1, 1, 2) * 4, (256, 256)
)
# `image_small.yaml` / `style_image_small.yaml`: 4 blocks, k4 s2.
ENCODER_SMALL = ConvStack((64, 128, 256, 512), (4,) * 4, (2,) * 4, (512,))
DECODER_SMALL = ConvStack((512, 256, 128, 64), (4,) * 4, (2,) * 4, (512,))
# For tests: both block kinds (k3 s1 and k4 s2), a few channels.
ENCODER_TINY = ConvStack((4, 4, 8, 8), (3, 4, 4, 4), (1, 2, 2, 2), (16,))
DECODER_TINY = ConvStack((8, 8, 4, 4), (4, 4, 4, 3), (2, 2, 2, 1), (16,))

# Equinox `Linear`/`Conv` weights: U(±1/√fan_in) = variance_scaling(1/3, fan_in, uniform).
kernel_init = nn.initializers.variance_scaling(1 / 3, "fan_in", "uniform")
# A transposed kernel `[k, k, F_out, C_in]` has its inputs on the last axis.
transposed_kernel_init = nn.initializers.variance_scaling(
    1 / 3, "fan_in", "uniform", in_axis=-1, out_axis=-2
)


def bias_init(fan_in: int) -> nn.initializers.Initializer:
    """Equinox's bias initialisation U(±1/√fan_in)."""
    limit = fan_in**-0.5
    return lambda key, shape, dtype=jnp.float32: jax.random.uniform(
        key, shape, dtype, -limit, limit
    )


def dense(features: int, fan_in: int, name: str) -> nn.Dense:
    return nn.Dense(features, kernel_init=kernel_init, bias_init=bias_init(fan_in), name=name)


def instance_norm(features: int, affine: bool, name: str | None = None) -> nn.GroupNorm:
    """Per-example, per-channel normalisation over H, W (GroupNorm with groups = channels)."""
    return nn.GroupNorm(
        num_groups=features,
        epsilon=NORM_EPS,
        use_scale=affine,
        use_bias=affine,
        use_fast_variance=False,
        name=name,
    )


class ImageEncoder(nn.Module):
    """x `[B, H, W, C]` -> (h `[B, num_outputs]`, features `[B, hidden[-1]]`).

    Per block: bias-free Conv(k, s, padding 1), affine instance norm, LeakyReLU(0.2); then flatten,
    Dense + ReLU per `hidden` width, and a linear head (QLAE `ImageEncoder`).
    """

    num_outputs: int
    stack: ConvStack = ENCODER

    @nn.compact
    def __call__(self, x):
        s = self.stack
        for i, (f, k, st) in enumerate(zip(s.features, s.kernels, s.strides, strict=True)):
            x = nn.Conv(
                f,
                (k, k),
                (st, st),
                ((1, 1), (1, 1)),
                use_bias=False,
                kernel_init=kernel_init,
                name=f"conv{i}",
            )(x)
            x = nn.leaky_relu(instance_norm(f, affine=True, name=f"norm{i}")(x), LEAKY_SLOPE)
        x = x.reshape(x.shape[0], -1)
        for i, width in enumerate(s.hidden):
            x = nn.relu(dense(width, x.shape[-1], f"dense{i}")(x))
        return dense(self.num_outputs, x.shape[-1], "head")(x), x


class ConvTranspose(nn.Module):
    """PyTorch/Equinox `ConvTranspose2d(C, F, k, stride, padding=1, bias=False)` in NHWC:
    `[B, H, W, C] -> [B, s(H − 1) + k − 2, s(W − 1) + k − 2, F]`.

    The kernel `[k, k, F, C]` is that of the stride-s, padding-1 convolution from F to C channels
    whose gradient this is. `method="subpixel"` computes the k4 s2 case exactly as a 3×3
    convolution + depth-to-space (faster to differentiate on XLA:CPU); `"lax"` calls
    `lax.conv_transpose`.
    """

    features: int
    kernel: int
    stride: int
    method: str = "subpixel"

    @nn.compact
    def __call__(self, x):
        if self.method not in TRANSPOSED_CONVS:
            raise UserError(
                f"transposed_conv must be one of {', '.join(TRANSPOSED_CONVS)}, got {self.method!r}"
            )
        k, s = self.kernel, self.stride
        w = self.param("kernel", transposed_kernel_init, (k, k, self.features, x.shape[-1]))
        dims = ("NHWC", "HWIO", "NHWC")
        if self.method == "subpixel" and (k, s) == (4, 2):
            y = jax.lax.conv_general_dilated(
                x, subpixel_kernel(w), (1, 1), ((1, 1), (1, 1)), dimension_numbers=dims
            )
            return depth_to_space(y)
        return jax.lax.conv_transpose(
            x,
            w,
            (s, s),
            ((1, 1), (1, 1)),
            dimension_numbers=dims,
            transpose_kernel=True,
            use_consistent_padding=True,
        )


class StyleDecoder(nn.Module):
    """z `[B, N]` -> Bernoulli logits `[B, H, W, C]` (QLAE `StyleImageDecoder`).

    w = (Dense + ReLU per `hidden` width)(z); x₀ = a learned `input_map` `[H/S, W/S, features[0]]`
    initialised 0.1 (S = Π strides); per block: bias-free ConvTranspose(k, s, padding 1),
    LeakyReLU(0.2), non-affine instance norm, x·a + b with (a, b) = ReLU(Dense(w)); then a
    bias-free 3×3 conv to C.
    """

    output_shape: tuple[int, int, int]
    stack: ConvStack = DECODER
    transposed_conv: str = "subpixel"

    @nn.compact
    def __call__(self, z):
        height, width, channels = self.output_shape
        s = self.stack
        scale = math.prod(s.strides)
        if height % scale or width % scale:
            raise UserError(
                f"image size {height}x{width} must be a multiple of the decoder's total stride "
                f"{scale}"
            )
        w = z
        for i, hidden in enumerate(s.hidden):
            w = nn.relu(dense(hidden, w.shape[-1], f"dense{i}")(w))
        x = self.param(
            "input_map",
            nn.initializers.constant(0.1),
            (height // scale, width // scale, s.features[0]),
        )
        x = jnp.broadcast_to(x, (z.shape[0], *x.shape))
        for i, (f, k, st) in enumerate(zip(s.features, s.kernels, s.strides, strict=True)):
            x = ConvTranspose(f, k, st, self.transposed_conv, name=f"conv{i}")(x)
            x = instance_norm(f, affine=False)(nn.leaky_relu(x, LEAKY_SLOPE))
            a, b = jnp.split(nn.relu(dense(2 * f, w.shape[-1], f"style{i}")(w)), 2, axis=-1)
            x = x * a[:, None, None, :] + b[:, None, None, :]
        return nn.Conv(
            channels,
            (3, 3),
            padding=((1, 1), (1, 1)),
            use_bias=False,
            kernel_init=kernel_init,
            name="out",
        )(x)


class Critic(nn.Module):
    """QLAE `CriticEncoder` for (QL)InfoWGAN-GP: x -> (value `[B]`, h `[B, num_outputs]`).

    The image encoder with a second linear head on its dense features: a scalar critic value per
    example and the latent-reconstruction head h (pass h through the latent layer to compare it
    with the generator's code).
    """

    num_outputs: int
    stack: ConvStack = ENCODER

    @nn.compact
    def __call__(self, x):
        h, features = ImageEncoder(self.num_outputs, self.stack, name="encoder")(x)
        return dense(1, features.shape[-1], "value")(features)[:, 0], h


class LatentAutoencoder(nn.Module):
    """Image encoder -> latent layer (`latent`) -> style decoder; subclasses pick the layer."""

    num_latents: int = 10
    channels: int = 1
    image_size: int = 64
    encoder_stack: ConvStack = ENCODER
    decoder_stack: ConvStack = DECODER
    transposed_conv: str = "subpixel"

    inputs_per_latent = 1  # encoder outputs per latent

    def make_latent(self) -> nn.Module:
        raise NotImplementedError

    def setup(self):
        self.encoder = ImageEncoder(self.num_latents * self.inputs_per_latent, self.encoder_stack)
        self.latent = self.make_latent()
        self.decoder = StyleDecoder(
            (self.image_size, self.image_size, self.channels),
            self.decoder_stack,
            self.transposed_conv,
        )

    def decode(self, z):
        return self.decoder(z)


class QLAE(LatentAutoencoder):
    """Quantized-latent autoencoder (Hsu et al. 2023): L scalar latents, each with its own
    learnable codebook of `num_values` values (one shared codebook if `global_codebook`).

    aux: `z` (straight-through code the decoder reads, of value `z_quantized`), `z_continuous`,
    `z_quantized`, `z_indices` `[B, L]` int32. `encode(x) -> (z_quantized, aux)`.
    """

    num_values: int = 10
    global_codebook: bool = False

    def make_latent(self):
        if self.global_codebook:
            return GlobalQuantizer(self.num_values)
        return ScalarQuantizer(self.num_values)

    def encode(self, x):
        z, aux = self.latent(self.encoder(x)[0])
        return aux["z_quantized"], {"z": z, **aux}

    def __call__(self, x, *, train: bool = False):
        del train  # deterministic
        _, aux = self.encode(x)
        return self.decoder(aux["z"]), aux


class VQVAE(LatentAutoencoder):
    """VQ-VAE baseline of the QLAE code: the encoder emits L vectors of `code_dim`, each replaced
    by its nearest code of one shared `[num_codes, code_dim]` codebook.

    aux: `z` `[B, L·D]` (straight-through, the decoder input), `z_continuous` and `z_quantized`
    `[B, L, D]`, `z_indices` `[B, L]`. `encode(x) -> (z_indices, aux)`: the code indices are the
    representation the QLAE code evaluates.
    """

    num_codes: int = 512
    code_dim: int = 64

    @property
    def inputs_per_latent(self):
        return self.code_dim

    def make_latent(self):
        return VectorQuantizer(self.num_codes, self.code_dim)

    def encode(self, x):
        z, aux = self.latent(self.encoder(x)[0])
        return aux["z_indices"], {"z": z, **aux}

    def __call__(self, x, *, train: bool = False):
        del train
        _, aux = self.encode(x)
        return self.decoder(aux["z"]), aux


class BioAE(LatentAutoencoder):
    """BioAE baseline (Whittington et al. 2023) on the QLAE architecture: a continuous code that
    the `bio_ae` objective pushes to be non-negative and sparse (`relu=True`: z = max(h, 0)).

    aux: `z` `[B, L]`. `encode(x) -> (z, aux)`.
    """

    relu: bool = False

    def make_latent(self):
        return BioLatent(self.relu)

    def encode(self, x):
        z, _ = self.latent(self.encoder(x)[0])
        return z, {"z": z}

    def __call__(self, x, *, train: bool = False):
        del train
        z, aux = self.encode(x)
        return self.decoder(z), aux


class VAE(LatentAutoencoder):
    """Gaussian VAE on the QLAE architecture (the QLAE paper's β-VAE / β-TCVAE baselines): the
    head emits (μ, s), σ = softplus(s); z = μ + σ·ε (`latent` RNG) when `train`, else μ.

    aux: `z`, `mu`, `logvar` (= 2 log σ), as `dlib.GaussianVAE`; `encode(x) -> (mu, logvar)`.
    """

    inputs_per_latent = 2

    def make_latent(self):
        return DiagonalGaussian()

    def encode(self, x):
        _, aux = self.latent(self.encoder(x)[0])
        return aux["mu"], aux["logvar"]

    def __call__(self, x, *, train: bool = False):
        z, aux = self.latent(self.encoder(x)[0], sample=train)
        return self.decoder(z), {"z": z, **aux}


def _variants(name: str, model, **tiny_latent) -> dict:
    """`name` (the paper's architecture), `name_small` (the `_small` configs), `name_tiny`."""
    return {
        name: model,
        f"{name}_small": functools.partial(
            model, encoder_stack=ENCODER_SMALL, decoder_stack=DECODER_SMALL
        ),
        f"{name}_tiny": functools.partial(
            model, encoder_stack=ENCODER_TINY, decoder_stack=DECODER_TINY, **tiny_latent
        ),
    }


# Registered in `disentax.models.MODELS`; each takes num_latents, channels, image_size.
VARIANTS = {
    **_variants("qlae", QLAE),
    **_variants("qlae_global", functools.partial(QLAE, global_codebook=True)),
    **_variants("qlae_vq_vae", VQVAE, num_codes=16, code_dim=4),
    **_variants("qlae_bio_ae", BioAE),
    **_variants("qlae_vae", VAE),
}
