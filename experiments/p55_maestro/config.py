"""Maestro (Horváth et al., ICML 2024): one run of P55's three problems (`task.py`).

Argument (`disentax.config.parse_arg`): comma-separated `key=value` items and flags, e.g.
`experiments.p55_maestro.config:problem=autoencoder,seed=2,cpu`:
- `problem`: regression, autoencoder or classifier (default); `seed` (default 0);
  `dense` (flag: the classifier's baseline, plain dense layers trained without ordered
  dropout); `sampler`: per_layer (default, the paper's) or across_layers; `steps` (0: the
  setting's);
- the setting, one flag: `cpu` (the claim run, the default), `smoke` (a few steps, for tests)
  or `paper` (the same problems larger and longer: a 16-component autoencoder, wider MLP, 10
  seeds; not the paper's CIFAR/ImageNet networks, README "Deviations").
`get_sweep(arg)` lists one setting's runs: every problem × seeds, plus the dense baseline of
the classifier (`seeds=N` overrides the setting's number of seeds).
"""

import ml_collections

from disentax.errors import UserError
from experiments.settings import parse_setting

TASK = "experiments.p55_maestro.task"
PROBLEMS = ("regression", "autoencoder", "classifier")
NUM_SEEDS = {"cpu": 5, "smoke": 1, "paper": 10}
# Classifier evaluation: every layer cut to ⌈p·r_l⌉ (the official code's width multiplier p) and
# to min(k, r_l) (the same rank in every layer).
FRACTIONS = (1 / 64, 1 / 32, 1 / 16, 1 / 8, 3 / 16, 1 / 4, 3 / 8, 1 / 2, 3 / 4, 1.0)
RANKS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """One run (module docstring)."""
    args, setting = parse_setting(
        arg, problem="classifier", seed=0, dense=False, sampler="per_layer"
    )
    if args.problem not in PROBLEMS:
        raise UserError(f"unknown problem {args.problem!r}; known: {', '.join(PROBLEMS)}")
    if args.dense and args.problem != "classifier":
        raise UserError("only the classifier has a dense baseline")
    c = ml_collections.ConfigDict()
    c.task = TASK
    c.problem = args.problem
    c.seed = args.seed
    c.optimizer = ml_collections.ConfigDict(
        {"learning_rate": 1e-2, "b1": 0.9, "b2": 0.999, "eps": 1e-8, "weight_decay": 0.0,
         "decay_pattern": "."}
    )  # fmt: skip
    # Maestro's hyperparameters, one objective for the three problems (the dense baseline
    # ignores them): ordered dropout's sampler, the full model's loss added or not, λ_gp.
    c.objective = ml_collections.ConfigDict(
        {"sampler": args.sampler, "full_pass": False, "group_lasso": 0.0}
    )
    c.shrink = ml_collections.ConfigDict({"every_steps": 0, "threshold": 1e-3})
    c.model = ml_collections.ConfigDict({"factorized": not args.dense, "rank": 0, "widths": ()})
    c.data = ml_collections.ConfigDict()
    c.eval = ml_collections.ConfigDict({"every_steps": 0})
    c.log_every_steps = 500
    c.checkpoint_every_steps = 2000
    c.keep_checkpoints = 2
    c.async_checkpoints = True
    if args.problem == "regression":
        # 12 × 16 map, σ_i = 2·0.8^i (σ_12 = 0.17), fresh N(0, I) inputs: the notebook's
        # setting (9 × 6, x the unit vectors, SGD) made larger, with gaps of 20 % between σs.
        c.data = ml_collections.ConfigDict(
            {"inputs": 16, "outputs": 12, "map_seed": 100, "top_singular_value": 2.0,
             "decay": 0.8}
        )  # fmt: skip
        c.batch_size = 256
        c.num_steps = 6000
        c.optimizer.learning_rate = 3e-2
    elif args.problem == "autoencoder":
        c.model.rank = 8  # the bottleneck: the first 8 principal components, in order
        c.batch_size = 1797  # the whole data set each step
        c.num_steps = 6000
        c.optimizer.learning_rate = 1e-2
    else:
        c.data = ml_collections.ConfigDict({"split_seed": 0, "test_fraction": 0.25})
        c.model.widths = (128, 128)
        c.batch_size = 64
        c.num_steps = 3000
        c.optimizer.learning_rate = 3e-3
        c.objective.group_lasso = 1e-4
        c.shrink.every_steps = 21  # one epoch: 1,347 training images / 64
        c.eval.fractions = FRACTIONS
        c.eval.ranks = RANKS
    if setting == "smoke":
        c.num_steps = 4
        c.log_every_steps = c.checkpoint_every_steps = 2
        c.shrink.every_steps = min(c.shrink.every_steps, 2)
        c.batch_size = min(c.batch_size, 64)
        if args.problem == "classifier":  # fewer cuts to evaluate: a smaller scores function
            c.eval.fractions, c.eval.ranks = (1 / 8, 1.0), (2, 128)
    elif setting == "paper":
        c.num_steps *= 4
        c.checkpoint_every_steps = 5000
        if args.problem == "autoencoder":
            c.model.rank = 16
        if args.problem == "classifier":
            c.model.widths = (256, 256)
            c.eval.ranks = (*RANKS, 256)
    if args.steps:
        c.num_steps = args.steps
    return c


def get_sweep(arg: str | None = None) -> list[str]:
    """One setting's runs as `get_config` arguments: regression, autoencoder, classifier and
    the dense classifier, each over seeds 0..N−1 (`seeds=N`; default `NUM_SEEDS[setting]`)."""
    args, setting = parse_setting(arg, seeds=0)
    seeds = args.seeds or NUM_SEEDS[setting]
    if seeds < 1:
        raise UserError(f"seeds must be at least 1, got {seeds}")
    extra = f",{setting}" + (f",steps={args.steps}" if args.steps else "")
    runs = [f"problem={p}" for p in PROBLEMS] + ["problem=classifier,dense"]
    return [f"{run},seed={s}{extra}" for run in runs for s in range(seeds)]
