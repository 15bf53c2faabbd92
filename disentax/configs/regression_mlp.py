"""Teacher-student regression (`disentax.tasks.regression`): an MLP fits a random tanh teacher.

Arguments: none (2,000 steps, a few seconds on 2 CPU cores) or `tiny` (12 steps, for tests).
"""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.task = "regression"
    c.seed = 0
    c.data = ml_collections.ConfigDict(
        {"input_dim": 8, "outputs": 1, "teacher_widths": (32,), "teacher_seed": 0, "noise_std": 0.1}
    )
    c.model = ml_collections.ConfigDict({"widths": (64, 64)})
    c.objective = ml_collections.ConfigDict({"l2": 0.0})
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
    c.eval = ml_collections.ConfigDict({"every_steps": 0, "num_samples": 4096})
    if arg == "tiny":
        c.batch_size = 16
        c.num_steps = 12
        c.log_every_steps = 4
        c.checkpoint_every_steps = 4
        c.eval.num_samples = 256
    elif arg not in (None, "", "default"):
        raise ValueError(f"regression_mlp takes no argument or 'tiny', got {arg!r}")
    return c
