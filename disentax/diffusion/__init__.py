"""Denoising diffusion: schedules, objectives, samplers and denoisers, as pure functions and Linen
modules that jit and vmap over a population.

- `schedule`: `Schedule` (β_t, ᾱ_t and what derives from them), `linear`, `cosine`, `make`.
- `parameterisation`: ε-, x_0- and v-prediction, and the conversions between them.
- `objectives`: `denoising_loss` (L_simple for any parameterisation, condition dropout).
- `samplers`: `denoiser` (ε̂ of a model, classifier-free guidance), DDPM ancestral sampling (with
  the x̂_0 of its last steps) and decoding, the DPM-Encoder, DDIM sampling and inversion.
- `denoisers`: `ResidualMLP` (vectors), `UNet` (images; class and token conditions), `DiT`.
"""

from disentax.diffusion import denoisers, objectives, parameterisation, samplers, schedule
from disentax.diffusion.objectives import denoising_loss
from disentax.diffusion.samplers import (
    ddim_invert,
    ddim_sample,
    ddim_timesteps,
    ddpm_decode,
    ddpm_sample,
    ddpm_sample_with_x0,
    denoiser,
    dpm_encode,
)
from disentax.diffusion.schedule import Schedule

__all__ = [
    "Schedule",
    "ddim_invert",
    "ddim_sample",
    "ddim_timesteps",
    "ddpm_decode",
    "ddpm_sample",
    "ddpm_sample_with_x0",
    "denoiser",
    "denoisers",
    "denoising_loss",
    "dpm_encode",
    "objectives",
    "parameterisation",
    "samplers",
    "schedule",
]
