"""Pure losses: `loss_fn(params, batch, rng, *, model, step, **hparams) -> (loss, metrics)`."""

import functools

from disentax.objectives.vae import (
    ae,
    annealed_vae,
    bernoulli_reconstruction,
    beta_tc_vae,
    beta_vae,
    capacity_schedule,
    covariance_z_mean,
    dip_regularizer,
    dip_vae,
    gaussian_kl,
    gaussian_log_density,
    total_correlation,
)
from disentax.registry import Registry

OBJECTIVES = Registry("objective")
OBJECTIVES.register("beta_vae", beta_vae)
OBJECTIVES.register("annealed_vae", annealed_vae)
OBJECTIVES.register("dip_vae", dip_vae)
OBJECTIVES.register("dip_vae_i", functools.partial(dip_vae, dip_type="i"))
OBJECTIVES.register("dip_vae_ii", functools.partial(dip_vae, dip_type="ii"))
OBJECTIVES.register("beta_tc_vae", beta_tc_vae)
OBJECTIVES.register("ae", ae)

__all__ = [
    "OBJECTIVES",
    "ae",
    "annealed_vae",
    "bernoulli_reconstruction",
    "beta_tc_vae",
    "beta_vae",
    "capacity_schedule",
    "covariance_z_mean",
    "dip_regularizer",
    "dip_vae",
    "gaussian_kl",
    "gaussian_log_density",
    "total_correlation",
]
