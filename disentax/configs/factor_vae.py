"""FactorVAE (disentanglement_lib's loss, architectures and optimisers) on procedural dSprites.

Arguments as `beta_vae`: `factor_vae` (a few minutes on 2 CPU cores), `factor_vae:tiny`
(tiny fully connected models for tests), `factor_vae:full` (disentanglement_lib's
`training_steps=300000`: both of its train ops advance its global step, so that is 150k of our
steps, each one VAE update and one discriminator update on the same batch).
"""

import ml_collections

from disentax import config as config_lib


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    c = config_lib.load_config(f"beta_vae:{arg or 'default'}")
    # gamma: disentanglement_lib's own FactorVAE test; its study sweeps {10, 20, 30, 40, 50, 100}.
    c.objective = ml_collections.ConfigDict({"name": "factor_vae", "gamma": 10.0})
    c.discriminator = "dlib_fc_discriminator"
    if arg == "tiny":
        c.model, c.discriminator = "tiny_fc_vae", "tiny_fc_discriminator"
    c.discriminator_optimizer = ml_collections.ConfigDict(
        {**c.optimizer.to_dict(), "b1": 0.5, "b2": 0.9}  # Adam 1e-4, β1 0.5, β2 0.9, ε 1e-8
    )
    if arg == "full":
        c.num_steps = 150_000
    return c
