"""Pure losses: `loss_fn(params, batch, rng, *, model, step, **hparams) -> (loss, metrics)`."""

import functools

from disentax.objectives.factor_vae import (
    discriminator_loss,
    discriminator_tc,
    factor_vae,
    factor_vae_losses,
    permute_dims,
)
from disentax.objectives.gan import info_wgan_gp, info_wgan_gp_losses, ql_info_wgan_gp
from disentax.objectives.players import MultiPlayer
from disentax.objectives.quantized import (
    bio_ae,
    mean_bernoulli_reconstruction,
    qlae,
    qlae_tc_vae,
    qlae_vae,
    vq_vae,
)
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
from disentax.objectives.weak import (
    ada_gvae,
    ada_ml_vae,
    ada_vae,
    adaptive_average,
    adaptive_shared_mask,
    average_posteriors,
    pairwise_kl,
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
OBJECTIVES.register("qlae", qlae)
OBJECTIVES.register("vq_vae", vq_vae)
OBJECTIVES.register("bio_ae", bio_ae)
OBJECTIVES.register("qlae_vae", qlae_vae)
OBJECTIVES.register("qlae_tc_vae", qlae_tc_vae)
OBJECTIVES.register("ada_gvae", ada_gvae)
OBJECTIVES.register("ada_ml_vae", ada_ml_vae)
PAIR_OBJECTIVES = ("ada_gvae", "ada_ml_vae")  # trained on pair batches (`data.pairs`)
OBJECTIVES.register("factor_vae", factor_vae)  # a MultiPlayer: model + discriminator
OBJECTIVES.register("info_wgan_gp", info_wgan_gp())  # MultiPlayers: critic + generator
OBJECTIVES.register("ql_info_wgan_gp", ql_info_wgan_gp())

__all__ = [
    "MultiPlayer",
    "discriminator_loss",
    "discriminator_tc",
    "factor_vae",
    "factor_vae_losses",
    "permute_dims",
    "OBJECTIVES",
    "PAIR_OBJECTIVES",
    "ada_gvae",
    "ada_ml_vae",
    "ada_vae",
    "adaptive_average",
    "adaptive_shared_mask",
    "average_posteriors",
    "pairwise_kl",
    "ae",
    "annealed_vae",
    "bernoulli_reconstruction",
    "beta_tc_vae",
    "beta_vae",
    "bio_ae",
    "capacity_schedule",
    "covariance_z_mean",
    "dip_regularizer",
    "dip_vae",
    "gaussian_kl",
    "gaussian_log_density",
    "mean_bernoulli_reconstruction",
    "qlae",
    "qlae_tc_vae",
    "qlae_vae",
    "total_correlation",
    "vq_vae",
]
__all__ += ["info_wgan_gp", "info_wgan_gp_losses", "ql_info_wgan_gp"]
