"""Be More Active! (Bonheme & Grześ, JMLR 2023): the β-VAE and β-TCVAE population it analyses.

Argument (`disentax.config.parse_arg`): comma-separated `key=value` items and flags, e.g.
`experiments.p03_be_more_active.config:model=beta_tc_vae,beta=8,cpu`:
- `model`: beta_vae (default) or beta_tc_vae; `beta` (default 4), `seed` (default 0),
  `dataset` (default dsprites_procedural); `steps` (default 0: the setting's);
- the setting, one flag: `paper` (the default: disentanglement_lib's `unsupervised_study_v1`,
  whose released models the paper analyses: conv encoder / deconv decoder, 10 latents, batch 64,
  300,000 steps, Adam(1e-4, 0.9, 0.999, 1e-8), Bernoulli loss summed over pixels), `cpu` (the
  reduced scale of NOTES.md, which calls it `small`, still accepted as its alias: `small_fc_vae`,
  256-unit FC layers, Adam(1e-3), batch 64, 1,000 steps; ~45 min on 2 shared CPU cores for the
  30 models) or `smoke` (a few steps of the tiny model, for tests).
`get_sweep(arg)` lists the population: both models × β ∈ {1, 2, 4, 8, 16} × seeds (`seeds=N`,
default 50 as disentanglement_lib; 3 with `cpu`, 1 with `smoke`); `steps`, `dataset` and the
setting pass to every member.
"""

import ml_collections

from disentax import config as config_lib
from disentax.errors import UserError
from experiments.settings import parse_setting

MODELS = ("beta_vae", "beta_tc_vae")
BETAS = (1.0, 2.0, 4.0, 8.0, 16.0)  # the grid (disentanglement_lib's differs: NOTES.md)
ALIASES = {"small": "cpu"}  # the setting's name in NOTES.md and results/small_*.json
NUM_SEEDS = {"paper": 50, "cpu": 3, "smoke": 1}
TRAINING_STEPS = 300_000  # disentanglement_lib shared.gin `model.training_steps`
SMALL_STEPS = 1_000
DEFAULT_DATASET = "dsprites_procedural"


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """One member of the population (module docstring)."""
    args, setting = _parse(arg, model="beta_vae", beta=4.0, seed=0)
    if args.model not in MODELS:
        raise UserError(f"unknown model {args.model!r}; known: {', '.join(MODELS)}")
    c = config_lib.load_config("beta_vae" if setting == "paper" else "beta_vae:tiny")
    c.dataset = args.dataset
    c.seed = args.seed
    c.objective = ml_collections.ConfigDict({"name": args.model, "beta": args.beta})
    c.num_latents = 10
    c.eval.representations = "mean,sampled"
    if setting == "smoke":  # two steps and a minimal evaluation: checks that the run works
        c.model = "tiny_fc_vae"
        config_lib.smoke(c, metrics="unsupervised", representations=c.eval.representations)
    elif setting == "cpu":
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
    if args.steps:
        c.num_steps = args.steps
    return c


def get_sweep(arg: str | None = None) -> list[str]:
    """The population as arguments of `get_config`: `MODELS` × `BETAS` × seeds 0..N−1
    (`seeds=N`; default 50, 3 with `cpu`, 1 with `smoke`); the setting, `dataset` and `steps`
    are passed through."""
    args, setting = _parse(arg, seeds=0)
    seeds = args.seeds or NUM_SEEDS[setting]
    if seeds < 1:
        raise UserError(f"seeds must be at least 1, got {seeds}")
    extra = f",dataset={args.dataset}" if args.dataset != DEFAULT_DATASET else ""
    extra += f",steps={args.steps}" if args.steps else ""
    extra += f",{setting}" if setting != "paper" else ""
    return [
        f"model={model},beta={beta:g},seed={seed}{extra}"
        for model in MODELS
        for beta in BETAS
        for seed in range(seeds)
    ]


def _parse(arg: str | None, **keys) -> tuple[ml_collections.ConfigDict, str]:
    """`(args, setting)` (`parse_setting`; `paper` when none is named) with the keys `get_config`
    and `get_sweep` share."""
    return parse_setting(arg, default="paper", aliases=ALIASES, dataset=DEFAULT_DATASET, **keys)
