"""Linen models, looked up by name: `MODELS.get(name)(num_latents=..., channels=...)`."""

import functools

from disentax.models.adversary import WithDiscriminator
from disentax.models.dlib import (
    FCVAE,
    ConvEncoder,
    DeconvDecoder,
    FCDecoder,
    FCDiscriminator,
    FCEncoder,
    GaussianVAE,
)
from disentax.models.qlae import VARIANTS as QLAE_VARIANTS
from disentax.registry import Registry

MODELS = Registry("model")
MODELS.register("dlib_conv_vae", GaussianVAE)
MODELS.register(
    "tiny_conv_vae",
    functools.partial(
        GaussianVAE, encoder_features=(4, 4, 8, 8), decoder_features=(8, 4, 4), hidden=16
    ),
)
for _name, _model in QLAE_VARIANTS.items():
    MODELS.register(_name, _model)

MODELS.register("dlib_fc_vae", FCVAE)
MODELS.register(
    "tiny_fc_vae", functools.partial(FCVAE, encoder_features=(32, 32), decoder_features=(32,) * 3)
)
# Between the two: 256-unit layers. In be_more_active's small run (dSprites, 1,000 steps) 85 of
# 300 variables stayed mixed; tiny_fc_vae kept 27–33 of 70 mixed (be_more_active README).
MODELS.register(
    "small_fc_vae",
    functools.partial(FCVAE, encoder_features=(256, 256), decoder_features=(256,) * 3),
)

# Discriminators on codes `[B, L] -> logits [B, 2]` (FactorVAE): `DISCRIMINATORS.get(name)()`.
DISCRIMINATORS = Registry("discriminator")
DISCRIMINATORS.register("dlib_fc_discriminator", FCDiscriminator)
DISCRIMINATORS.register(
    "tiny_fc_discriminator", functools.partial(FCDiscriminator, features=(16,) * 2)
)

__all__ = ["MODELS", "ConvEncoder", "DeconvDecoder", "GaussianVAE"]
__all__ += ["DISCRIMINATORS", "FCVAE", "FCDecoder", "FCDiscriminator", "FCEncoder"]
__all__ += ["WithDiscriminator"]

# InfoWGAN-GP / QLInfoWGAN-GP generator-critic pairs (`models.gan`), the `objectives.gan` players.
from disentax.models.gan import VARIANTS as GAN_VARIANTS  # noqa: E402

for _name, _model in GAN_VARIANTS.items():
    MODELS.register(_name, _model)
