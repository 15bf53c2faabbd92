"""A DDPM (`disentax.tasks.diffusion`) on a two-mode Gaussian mixture in one dimension.

Arguments: none (2,000 steps, a few seconds on 2 CPU cores) or `tiny` (12 steps, for tests).
"""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.task = "diffusion"
    c.seed = 0
    c.data = ml_collections.ConfigDict(
        {"dim": 1, "num_modes": 2, "separation": 4.0, "mode_std": 0.3}
    )
    c.diffusion = ml_collections.ConfigDict(
        {"schedule": "linear", "num_timesteps": 100, "beta_start": 1e-3, "beta_end": 0.2,
         "prediction": "epsilon"}
    )  # fmt: skip
    c.model = ml_collections.ConfigDict({"width": 128, "depth": 3, "embedding_dim": 32})
    c.optimizer = ml_collections.ConfigDict(
        {
            "learning_rate": 1e-3,
            "b1": 0.9,
            "b2": 0.999,
            "eps": 1e-8,
            "weight_decay": 0.0,
            "decay_pattern": "kernel",
        }
    )
    c.batch_size = 128
    c.num_steps = 2000
    c.log_every_steps = 100
    c.checkpoint_every_steps = 500
    c.keep_checkpoints = 3
    c.async_checkpoints = True
    c.eval = ml_collections.ConfigDict(
        {"every_steps": 0, "num_samples": 2048, "sampler": "ddpm", "sampler_steps": 0}
    )
    if arg == "tiny":
        c.batch_size = 16
        c.num_steps = 12
        c.log_every_steps = 4
        c.checkpoint_every_steps = 4
        c.eval.num_samples = 256
    elif arg not in (None, "", "default"):
        raise ValueError(f"diffusion_1d takes no argument or 'tiny', got {arg!r}")
    return c
