"""Linen models, looked up by name: `MODELS.get(name)(num_latents=..., channels=...)`."""

import functools

from disentax.models.dlib import ConvEncoder, DeconvDecoder, GaussianVAE
from disentax.registry import Registry

MODELS = Registry("model")
MODELS.register("dlib_conv_vae", GaussianVAE)
MODELS.register(
    "tiny_conv_vae",
    functools.partial(
        GaussianVAE, encoder_features=(4, 4, 8, 8), decoder_features=(8, 4, 4), hidden=16
    ),
)

__all__ = ["MODELS", "ConvEncoder", "DeconvDecoder", "GaussianVAE"]
