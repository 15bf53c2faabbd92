"""disentanglement_lib's unsupervised study (Locatello et al. 2019): one model of its grid per run.

Argument (`disentax.config.parse_arg`): comma-separated `key=value` items and flags, e.g.
`config.py:model=factor_vae,gamma=10,dataset=dsprites_procedural,seed=3`:
- `model`: beta_vae (default), annealed_vae, factor_vae, dip_vae_i, dip_vae_ii, beta_tc_vae;
- the model's hyperparameter (beta, c_max, gamma, lambda_od), default `DEFAULTS`;
- `dataset` (default dsprites_procedural), `seed` (default 0);
- `smoke`: a few steps of `tiny_conv_vae` (tests).
Everything else is disentanglement_lib's `unsupervised_study_v1/model_configs/shared.gin`: batch 64,
300,000 steps (150,000 FactorVAE iterations, see `TRAINING_STEPS`), Adam(1e-4, 0.9, 0.999, 1e-8)
(FactorVAE's discriminator: Adam(1e-4, 0.5, 0.9), from the built-in `factor_vae` config), 10
latents, conv encoder / deconv decoder, Bernoulli loss summed over pixels. `get_sweep()` lists
its grid as arguments of this file.
"""

import math

import ml_collections

from disentax import config as config_lib
from disentax.errors import UserError

# model -> (objective, swept hyperparameter, its disentanglement_lib grid, fixed hyperparameters)
MODELS = {
    "beta_vae": ("beta_vae", "beta", (1.0, 2.0, 4.0, 6.0, 8.0, 16.0), {}),
    "annealed_vae": (
        "annealed_vae",
        "c_max",
        (5.0, 10.0, 25.0, 50.0, 75.0, 100.0),
        {"gamma": 1000.0, "iteration_threshold": 100_000},
    ),
    "factor_vae": ("factor_vae", "gamma", (10.0, 20.0, 30.0, 40.0, 50.0, 100.0), {}),
    "dip_vae_i": (
        "dip_vae_i",
        "lambda_od",
        (1.0, 2.0, 5.0, 10.0, 20.0, 50.0),
        {"lambda_d_factor": 10.0},
    ),
    "dip_vae_ii": (
        "dip_vae_ii",
        "lambda_od",
        (1.0, 2.0, 5.0, 10.0, 20.0, 50.0),
        {"lambda_d_factor": 1.0},
    ),
    "beta_tc_vae": ("beta_tc_vae", "beta", (1.0, 2.0, 4.0, 6.0, 8.0, 10.0), {}),
}
# The value a single run uses when the argument names none (one of the grid's values).
DEFAULTS = {
    "beta_vae": 4.0,
    "annealed_vae": 25.0,
    "factor_vae": 10.0,
    "dip_vae_i": 10.0,
    "dip_vae_ii": 10.0,
    "beta_tc_vae": 6.0,
}
NUM_SEEDS = 50  # sweep.py: get_seeds(50)
# shared.gin `model.training_steps`; FactorVAE's two train ops both advance disentanglement_lib's
# global step, so it makes 150,000 iterations (one VAE and one discriminator update each).
TRAINING_STEPS = 300_000
# disentanglement_lib's seven study datasets, by their disentax names.
STUDY_DATASETS = (
    "dsprites",
    "color_dsprites_procedural",
    "noisy_dsprites_procedural",
    "scream_dsprites_procedural",
    "smallnorb",
    "cars3d",
    "shapes3d",
)
DEFAULT_DATASET = "dsprites_procedural"


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """One model of the grid (module docstring)."""
    # A hyperparameter not given stays NaN: only the model's own may be given.
    hparams = sorted({hparam for _, hparam, _, _ in MODELS.values()})
    args = config_lib.parse_arg(
        arg,
        model="beta_vae",
        dataset=DEFAULT_DATASET,
        seed=0,
        smoke=False,
        **dict.fromkeys(hparams, math.nan),
    )
    if args.model not in MODELS:
        raise UserError(f"unknown model {args.model!r}; known: {', '.join(MODELS)}")
    objective, hparam, _, fixed = MODELS[args.model]
    if others := [h for h in hparams if h != hparam and not math.isnan(args[h])]:
        raise UserError(
            f"unknown key(s) {', '.join(others)} for model {args.model!r}; "
            f"allowed: {', '.join(sorted({'model', 'dataset', 'seed', hparam}))}"
        )
    value = DEFAULTS[args.model] if math.isnan(args[hparam]) else args[hparam]
    # FactorVAE's built-in config adds its discriminator and the discriminator's optimizer.
    base = "factor_vae" if args.model == "factor_vae" else "beta_vae"
    c = config_lib.load_config(f"{base}:tiny" if args.smoke else base)
    c.dataset = args.dataset
    c.seed = args.seed
    c.objective = ml_collections.ConfigDict({"name": objective, hparam: value, **fixed})
    if args.smoke:  # two steps and a minimal evaluation: checks that the run works
        c.model = "tiny_conv_vae"
        config_lib.smoke(c)
    else:
        c.model = "dlib_conv_vae"
        c.num_latents = 10
        c.batch_size = 64
        c.num_steps = TRAINING_STEPS // 2 if args.model == "factor_vae" else TRAINING_STEPS
        c.log_every_steps = 500
        c.checkpoint_every_steps = 10_000
        c.optimizer.learning_rate = 1e-4
        c.optimizer.b1, c.optimizer.b2, c.optimizer.eps = 0.9, 0.999, 1e-8
    return c


def get_sweep(arg: str | None = None) -> list[str]:
    """disentanglement_lib's `unsupervised_study_v1` grid as arguments of this file: 6 models ×
    6 values × 50 seeds (0-49) = 1,800 runs on `dataset` (default dsprites_procedural), or
    × the 7 study datasets = 12,600 runs with `dataset=study`. `smoke` is passed through."""
    args = config_lib.parse_arg(arg, dataset=DEFAULT_DATASET, smoke=False)
    datasets = STUDY_DATASETS if args.dataset == "study" else (args.dataset,)
    suffix = ",smoke" if args.smoke else ""
    return [
        f"model={model},{hparam}={value},dataset={name},seed={seed}{suffix}"
        for name in datasets
        for model, (_, hparam, grid, _) in MODELS.items()
        for value in grid
        for seed in range(NUM_SEEDS)
    ]
