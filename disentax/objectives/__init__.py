"""Pure losses: `loss_fn(params, batch, rng, *, model, step, **hparams) -> (loss, metrics)`."""

from disentax.objectives.vae import bernoulli_reconstruction, beta_vae, gaussian_kl
from disentax.registry import Registry

OBJECTIVES = Registry("objective")
OBJECTIVES.register("beta_vae", beta_vae)

__all__ = ["OBJECTIVES", "bernoulli_reconstruction", "beta_vae", "gaussian_kl"]
