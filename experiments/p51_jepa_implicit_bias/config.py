"""P51 (Littwin et al., NeurIPS 2024): deep linear JEPA vs MAE, one member of the population.

Argument (`disentax.config.parse_arg`), e.g. `experiments.p51_jepa_implicit_bias.config:
objective=mae,depth=3,data=dynamic,seed=2,cpu`:
- `objective`: jepa (default) or mae; `depth` L (default 2); `data`: static (default) or dynamic;
  `seed` (default 0); `steps` (default 0: as long as the closed form says, `horizon` × the later
  feature's critical time);
- the setting, one flag: `cpu` (the default; the claim run, README "Setting here"), `smoke` (a
  few steps, for tests) or `paper` (ten features, smaller steps and init, for accelerators; the
  paper's own scale was not retrieved).
`get_sweep(arg)` lists the population: objectives × depths × data models × seeds.

Features (`FEATURES`) are given by their covariance λ and regression coefficient ρ and turned
into the generative model's variances (`generative`); feature 0 is the noisy, high-λ one, feature
1 the clean, high-ρ one.
"""

import math

import ml_collections

from disentax.errors import UserError
from experiments.p51_jepa_implicit_bias import theory
from experiments.settings import parse_setting

TASK = "experiments.p51_jepa_implicit_bias.task"
DEPTHS = (1, 2, 3, 4, 5)
NUM_SEEDS = {"cpu": 5, "smoke": 1, "paper": 10}
# (λ, ρ, γ) per feature; γ is the dynamic model's AR(1) coefficient (ρ ≤ γ there).
FEATURES = {
    "static": {"lam": (1.0, 0.9), "rho": (0.7, 0.95)},
    "dynamic": {"lam": (1.0, 0.95), "rho": (0.7, 0.95), "gamma": (0.8, 0.98)},
}
PAPER_FEATURES = {  # ten features, λ falling and ρ rising together
    "lam": tuple(round(1.0 - 0.05 * i, 2) for i in range(10)),
    "rho": tuple(round(0.5 + 0.05 * i, 2) for i in range(10)),
    "gamma": (0.99,) * 10,
}
INIT_SCALE = {"cpu": 3e-3, "smoke": 3e-3, "paper": 1e-3}  # ε: the encoder's initial gain
LEARNING_RATE = {"jepa": 1.0, "mae": 0.05}  # MAE's early phase is exponential at L = 1
PAPER_LEARNING_RATE = 0.05
NUM_PAIRS = {"cpu": 65_536, "smoke": 1_024, "paper": 1_048_576}  # the full batch
HORIZON = 1.3
SMOKE_STEPS = 20


def generative(model: str, lam, rho, gamma=None) -> dict:
    """The latent and noise variances (and γ) that give the moments (λ, ρ) (`theory.moments`):
    s² = λ/γ (γ = 1 for the static model), σ_n² = λ/ρ − s²."""
    g = (1.0,) * len(lam) if model == "static" else tuple(gamma)
    signal = tuple(lm / gi for lm, gi in zip(lam, g, strict=True))
    noise = tuple(lm / r - s for lm, r, s in zip(lam, rho, signal, strict=True))
    if min(noise) < 0:
        raise UserError(f"the {model} model needs rho <= gamma per feature, got {rho} and {g}")
    out = {"model": model, "signal_var": signal, "noise_var": noise}
    return out | ({"gamma": g} if model == "dynamic" else {"gamma": ()})


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """One member (module docstring)."""
    args, setting = _parse(arg, objective="jepa", depth=2, data="static", seed=0, steps=0)
    if args.objective not in theory.OBJECTIVES:
        raise UserError(f"unknown objective {args.objective!r}; known: jepa, mae")
    if args.data not in theory.DATA_MODELS:
        raise UserError(f"unknown data {args.data!r}; known: static, dynamic")
    features = PAPER_FEATURES if setting == "paper" else FEATURES[args.data]
    c = ml_collections.ConfigDict()
    c.task = TASK
    c.seed = args.seed
    c.data = ml_collections.ConfigDict(
        generative(args.data, features["lam"], features["rho"], features.get("gamma"))
    )
    c.model = ml_collections.ConfigDict({"depth": args.depth, "init_scale": INIT_SCALE[setting]})
    c.objective = ml_collections.ConfigDict({"name": args.objective})
    lr = PAPER_LEARNING_RATE if setting == "paper" else LEARNING_RATE[args.objective]
    c.optimizer = ml_collections.ConfigDict({"learning_rate": lr})
    c.data.num_pairs = NUM_PAIRS[setting]
    c.batch_size = 2 * len(c.data.signal_var)  # the pseudo-pairs a step reads (task.compress)
    c.num_steps = args.steps or (SMOKE_STEPS if setting == "smoke" else planned_steps(c))
    c.log_every_steps = max(1, c.num_steps // 2_000)
    c.checkpoint_every_steps = max(c.num_steps // 4, 1)
    c.keep_checkpoints = 1
    c.async_checkpoints = False
    c.eval = ml_collections.ConfigDict({"every_steps": 0})
    return c


def planned_steps(config: ml_collections.ConfigDict) -> int:
    """`HORIZON` × the later critical time of the features (population moments), in steps,
    rounded up to hundreds."""
    m = theory.moments(
        config.data.model, config.data.signal_var, config.data.noise_var, config.data.gamma
    )
    latest = max(
        theory.critical_time(
            config.objective.name, lam, rho, config.model.depth, config.model.init_scale
        )
        for lam, rho in zip(m["lam"], m["rho"], strict=True)
    )
    return 100 * math.ceil(HORIZON * latest / config.optimizer.learning_rate / 100)


def get_sweep(arg: str | None = None) -> list[str]:
    """The population as `get_config` arguments: objectives × `DEPTHS` × data models × seeds
    (`seeds=N`; default 5 with `cpu`, 1 with `smoke`, 10 with `paper`); `smoke` keeps depth 2 and
    the static model."""
    args, setting = _parse(arg, seeds=0)
    seeds = args.seeds or NUM_SEEDS[setting]
    if seeds < 1:
        raise UserError(f"seeds must be at least 1, got {seeds}")
    depths = (2,) if setting == "smoke" else DEPTHS
    datas = ("static",) if setting == "smoke" else theory.DATA_MODELS
    return [
        f"objective={o},depth={L},data={d},seed={s},{setting}"
        for d in datas
        for o in theory.OBJECTIVES
        for L in depths
        for s in range(seeds)
    ]


def _parse(arg: str | None, **defaults) -> tuple[ml_collections.ConfigDict, str]:
    """`(args, setting)` (`parse_setting`); `get_config` and `get_sweep` take each other's keys,
    so one argument string serves both."""
    keys = {"objective": "jepa", "depth": 2, "data": "static", "seed": 0, "steps": 0, "seeds": 0}
    return parse_setting(arg, **{**keys, **defaults})
