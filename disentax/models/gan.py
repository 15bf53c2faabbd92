"""InfoWGAN-GP and QLInfoWGAN-GP models of the QLAE code: a style-decoder generator and a critic.

The QLAE code's `InfoGAN` / `QuantizedInfoGAN` (`disentangle/models/info_gan.py`): the generator is
the style decoder (z -> logits), the critic the image encoder with a value head and a latent head
(`qlae.Critic`). The latent layer sits in the generator's params (QLAE optimises the codebook
with the generator): in QLInfoWGAN-GP the prior draws codebook values and the critic's latent head
is quantized with the same codebook.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from disentax.models.latents import ScalarQuantizer
from disentax.models.qlae import (
    DECODER,
    DECODER_SMALL,
    DECODER_TINY,
    ENCODER,
    ENCODER_SMALL,
    ENCODER_TINY,
    ConvStack,
    Critic,
    StyleDecoder,
)


class Generator(nn.Module):
    """The style decoder z `[B, L]` -> logits `[B, H, W, C]`, and with `num_values > 0` the
    per-latent codebooks `latent/codebook` `[L, num_values]` (a `ScalarQuantizer`)."""

    output_shape: tuple[int, int, int]
    stack: ConvStack = DECODER
    transposed_conv: str = "subpixel"
    num_values: int = 0

    def setup(self):
        self.decoder = StyleDecoder(self.output_shape, self.stack, self.transposed_conv)
        if self.num_values:
            self.latent = ScalarQuantizer(self.num_values)

    def __call__(self, z):
        return self.decoder(z)

    def quantize(self, h):
        """h `[B, L]` -> (ẑ straight-through, aux) through the codebooks (`ScalarQuantizer`)."""
        return self.latent(h)

    def codebook(self, num_latents: int) -> jax.Array:
        """The codebooks `[L, num_values]` (created by a quantization of zeros when absent)."""
        self.latent(jnp.zeros((1, num_latents)))
        return self.latent.variables["params"]["codebook"]


class InfoWGAN(nn.Module):
    """InfoWGAN-GP (`num_values` 0: z ~ U[0, 1)^L, QLAE `UniformLatent`) or QLInfoWGAN-GP
    (`num_values` V: z_l uniform over codebook l's V values, QLAE `QuantizedLatent.sample`).

    Params `{"generator": ..., "critic": ...}`, the players of `objectives.gan`. Methods:
    `sample_latents(n)` (`latent` RNG) -> z `[n, L]`; `generate(z)` = `decode(z)` -> logits;
    `criticize(x)` -> (value `[B]`, codes) with codes `z_hat` `[B, L]` the critic's latent
    prediction (quantized straight-through, plus `z_continuous`, `z_quantized`, `z_indices`, in
    QLInfoWGAN-GP); `encode(x)` -> (representation `[B, L]`, codes): the latent prediction
    (its quantized values in QLInfoWGAN-GP), which the QLAE paper evaluates for its GANs.
    `__call__(x)` -> (G(ẑ(x)) logits, codes with `z` = ẑ(x) and `value`): x reconstructed through
    the critic's latent head and the generator.
    """

    num_latents: int = 10
    channels: int = 1
    image_size: int = 64
    encoder_stack: ConvStack = ENCODER
    decoder_stack: ConvStack = DECODER
    transposed_conv: str = "subpixel"
    num_values: int = 0

    def setup(self):
        self.generator = Generator(
            (self.image_size, self.image_size, self.channels),
            self.decoder_stack,
            self.transposed_conv,
            self.num_values,
        )
        self.critic = Critic(self.num_latents, self.encoder_stack)

    def sample_latents(self, n: int) -> jax.Array:
        key = self.make_rng("latent")
        if not self.num_values:
            return jax.random.uniform(key, (n, self.num_latents))
        codebook = self.generator.codebook(self.num_latents)
        index = jax.random.randint(key, (n, self.num_latents), 0, self.num_values)
        return codebook[jnp.arange(self.num_latents), index]

    def generate(self, z):
        return self.generator(z)

    def decode(self, z):
        return self.generator(z)

    def criticize(self, x):
        value, h = self.critic(x)
        if not self.num_values:
            return value, {"z_hat": h}
        z_hat, aux = self.generator.quantize(h)
        return value, {"z_hat": z_hat, **aux}

    def encode(self, x):
        _, codes = self.criticize(x)
        return codes.get("z_quantized", codes["z_hat"]), codes

    def __call__(self, x, *, train: bool = False):
        del train  # deterministic
        value, codes = self.criticize(x)
        return self.generator(codes["z_hat"]), {"z": codes["z_hat"], "value": value, **codes}


def _variants(name: str, **fields) -> dict:
    """`name` (the paper's architecture), `name_small` (the `_small` configs), `name_tiny`."""
    model = functools.partial(InfoWGAN, **fields)
    return {
        name: model,
        f"{name}_small": functools.partial(
            model, encoder_stack=ENCODER_SMALL, decoder_stack=DECODER_SMALL
        ),
        f"{name}_tiny": functools.partial(
            model, encoder_stack=ENCODER_TINY, decoder_stack=DECODER_TINY
        ),
    }


# Registered in `disentax.models.MODELS`; each takes num_latents, channels, image_size.
VARIANTS = {**_variants("info_wgan"), **_variants("ql_info_wgan", num_values=10)}
