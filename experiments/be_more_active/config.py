"""Be More Active! (Bonheme & Grześ, JMLR 2023): the β-VAE and β-TCVAE population it analyses.

Argument: comma-separated `key=value` items and flags, e.g. `config.py:model=beta_tc_vae,beta=8`:
- `model`: beta_vae (default) or beta_tc_vae; `beta` (default 4), `seed` (default 0),
  `dataset` (default dsprites_procedural); `steps` (default: the scale's);
- `small`: the reduced scale of the README (`small_fc_vae`: 256-unit FC layers, Adam(1e-3),
  batch 64, 1,000 steps; ~45 min on 2 shared CPU cores for the 30 models);
- `smoke`: a few steps of the tiny model (tests).
By default the models are disentanglement_lib's (`unsupervised_study_v1`, whose released models
the paper analyses): conv encoder / deconv decoder, 10 latents, batch 64, 300,000 steps,
Adam(1e-4, 0.9, 0.999, 1e-8), Bernoulli loss summed over pixels. `get_sweep(arg)` lists the
population: both models × β ∈ {1, 2, 4, 8, 16} × seeds (`seeds=N`, default 50 as
disentanglement_lib; 3 with `small`, 1 with `smoke`); `steps` and `dataset` pass to every member.
"""

import ml_collections

from disentax import config as config_lib
from disentax.errors import UserError

MODELS = ("beta_vae", "beta_tc_vae")
BETAS = (1.0, 2.0, 4.0, 8.0, 16.0)  # the grid (disentanglement_lib's differs: README)
NUM_SEEDS = {"default": 50, "small": 3, "smoke": 1}
TRAINING_STEPS = 300_000  # disentanglement_lib shared.gin `model.training_steps`
SMALL_STEPS = 1_000
FLAGS = ("small", "smoke")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    values, flags = _parse(arg, allowed={"model", "beta", "seed", "dataset", "steps"})
    model = values.get("model", "beta_vae")
    if model not in MODELS:
        raise UserError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
    c = config_lib.load_config("beta_vae:tiny" if flags else "beta_vae")
    c.dataset = values.get("dataset", "dsprites_procedural")
    c.seed = config_lib.arg_value(values, "seed", 0, int)
    beta = config_lib.arg_value(values, "beta", 4.0, float)
    c.objective = ml_collections.ConfigDict({"name": model, "beta": beta})
    c.num_latents = 10
    c.eval.representations = "mean,sampled"
    if "smoke" in flags:  # two steps and a minimal evaluation: checks that the run works
        c.model = "tiny_fc_vae"
        config_lib.smoke(c, metrics="unsupervised", representations=c.eval.representations)
    elif "small" in flags:
        c.model = "small_fc_vae"
        c.batch_size = 64
        c.num_steps = SMALL_STEPS
        c.optimizer.learning_rate = 1e-3
        c.log_every_steps = 100
        c.checkpoint_every_steps = 500
        c.eval.metrics = "unsupervised,mig"
        c.eval.num_samples = 2_000
        c.eval.batch_size = 500
    else:
        c.model = "dlib_conv_vae"
        c.batch_size = 64
        c.num_steps = TRAINING_STEPS
        c.log_every_steps = 500
        c.checkpoint_every_steps = 10_000
        c.optimizer.learning_rate = 1e-4
        c.optimizer.b1, c.optimizer.b2, c.optimizer.eps = 0.9, 0.999, 1e-8
        c.eval.metrics = "unsupervised,mig"
    if "steps" in values:
        c.num_steps = config_lib.arg_value(values, "steps", c.num_steps, int)
        if c.num_steps < 1:
            raise UserError(f"steps must be at least 1, got {c.num_steps}")
    return c


def get_sweep(arg: str | None = None) -> list[str]:
    """The population as arguments of this file: `MODELS` × `BETAS` × seeds 0..N−1 (`seeds=N`;
    default 50, 3 with `small`, 1 with `smoke`); the flags are passed through."""
    values, flags = _parse(arg, allowed={"seeds", "dataset", "steps"})
    scale = "smoke" if "smoke" in flags else "small" if "small" in flags else "default"
    seeds = config_lib.arg_value(values, "seeds", NUM_SEEDS[scale], int)
    if seeds < 1:
        raise UserError(f"seeds must be at least 1, got {seeds}")
    extra = "".join(f",{k}={v}" for k, v in values.items() if k in ("dataset", "steps"))
    extra += "".join(f",{f}" for f in sorted(flags))
    return [
        f"model={model},beta={beta:g},seed={seed}{extra}"
        for model in MODELS
        for beta in BETAS
        for seed in range(seeds)
    ]


def _parse(arg, *, allowed):
    values, flags = config_lib.parse_arg(arg)
    if flags - set(FLAGS):
        raise UserError(
            f"unknown flag(s) {', '.join(sorted(flags - set(FLAGS)))}; allowed: {', '.join(FLAGS)}"
        )
    if len(flags) > 1:
        raise UserError(f"use one of the flags {', '.join(FLAGS)}, got {', '.join(sorted(flags))}")
    if set(values) - allowed:
        raise UserError(
            f"unknown key(s) {', '.join(sorted(set(values) - allowed))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    return values, flags
