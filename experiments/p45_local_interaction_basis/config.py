"""P45 (LIB) and P27 (degeneracy): one run of the digits networks (`task.py`).

Argument (`disentax.config.parse_arg`): comma-separated `key=value` items and flags, e.g.
`experiments.p45_local_interaction_basis.config:problem=llc,width=32,seed=2,cpu`:
- `problem`: lib (default: the LIB/PCA/neuron comparison on a two-hidden-layer digits MLP),
  modadd (the same comparison and the Fourier alignment on a modular-addition MLP, p = 31),
  twotask (the same on an MLP doing two independent digits tasks, and whether a split of its
  interaction graph recovers them) or llc (P27's λ̂ of a one-hidden-layer digits MLP);
  `width` (llc: the hidden width, default 16; with `planted`, the default for width 16, its
  duplicated and dead-unit paddings are scored too);
  `seed` (default 0); `steps` (0: the setting's);
- the setting, one flag: `cpu` (the claim run, the default), `smoke` (a few steps, for tests)
  or `paper` (wider networks, longer training and chains; for accelerators).
`get_sweep(arg)` lists one setting's runs: lib, llc at width h (planted), llc at width 2h,
modadd and twotask, each over seeds 0..N−1 (`seeds=N` overrides the setting's number).
"""

import ml_collections

from disentax.errors import UserError
from experiments.settings import parse_setting

TASK = "experiments.p45_local_interaction_basis.task"
PROBLEMS = ("lib", "llc", "modadd", "twotask")
NUM_SEEDS = {"cpu": 3, "smoke": 1, "paper": 10}
LLC_WIDTH = {"cpu": 16, "smoke": 4, "paper": 64}  # the planted network's; the dense one is 2×


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """One run (module docstring)."""
    args, setting = parse_setting(arg, problem="lib", width=0, seed=0, planted=True)
    if args.problem not in PROBLEMS:
        raise UserError(f"unknown problem {args.problem!r}; known: {', '.join(PROBLEMS)}")
    c = ml_collections.ConfigDict()
    c.task = TASK
    c.problem = args.problem
    c.seed = args.seed
    c.optimizer = ml_collections.ConfigDict(
        {"learning_rate": 3e-3, "b1": 0.9, "b2": 0.999, "eps": 1e-8, "weight_decay": 0.0,
         "decay_pattern": "."}
    )  # fmt: skip
    c.objective = ml_collections.ConfigDict({"smoothing": 0.0})
    c.data = ml_collections.ConfigDict({"split_seed": 0, "test_fraction": 0.25})
    c.log_every_steps = 500
    c.checkpoint_every_steps = 2000
    c.keep_checkpoints = 2
    c.async_checkpoints = True
    c.eval = ml_collections.ConfigDict({"every_steps": 0})
    if args.problem in ("lib", "twotask"):
        c.model = ml_collections.ConfigDict(
            {"widths": (64, 64) if setting != "paper" else (128,) * 3}
        )
        if args.problem == "twotask":
            c.data.pair_seed = 1  # image i is paired with image π(i), π from this seed
        c.batch_size = 128
        c.num_steps = 3000
        # k*: the fewest kept directions whose test CE is within 0.05 nats of the intact net's.
        c.eval.update(
            {"loss_tolerance": 0.05, "graph_examples": 400, "n_alpha": 8}
        )  # fmt: skip
    elif args.problem == "modadd":
        c.data = ml_collections.ConfigDict({"p": 31, "split_seed": 0, "train_fraction": 0.6})
        c.model = ml_collections.ConfigDict({"widths": (128,)})
        c.batch_size = 576  # the whole training set (⌊0.6 · 31²⌋)
        c.num_steps = 12_500  # generalises (test accuracy > 0.99) by then
        c.optimizer.weight_decay = 1.0
        c.eval.update(
            {"loss_tolerance": 0.05, "graph_examples": 400, "n_alpha": 8,
             "fourier_directions": 10, "key_share": 0.1}
        )  # fmt: skip
    else:
        width = args.width or LLC_WIDTH[setting]
        c.model = ml_collections.ConfigDict({"widths": (width,)})
        c.objective.smoothing = 0.1  # a minimum exists (plain CE keeps falling on separable data)
        c.batch_size = 1347  # the whole training set
        c.num_steps = 4000
        c.optimizer.learning_rate = 1e-2
        c.eval.update(
            {"planted": args.planted and width == LLC_WIDTH[setting], "sgld_steps": 2000,
             "sgld_burn_in": 500, "sgld_chains": 4, "sgld_step_size": 1e-4, "sgld_gamma": 100.0}
        )  # fmt: skip
    if setting == "smoke":
        c.num_steps = 4
        c.log_every_steps = c.checkpoint_every_steps = 2
        if args.problem in ("lib", "modadd", "twotask"):
            c.model.widths = (8,) if args.problem == "modadd" else (8, 8)
            c.eval.graph_examples = 32
            c.eval.n_alpha = 2
        else:
            c.eval.sgld_steps, c.eval.sgld_burn_in, c.eval.sgld_chains = 20, 10, 1
    elif setting == "paper":
        c.num_steps *= 4
        c.checkpoint_every_steps = 5000
        if args.problem == "llc":
            c.eval.sgld_steps, c.eval.sgld_chains = 10_000, 8
        if args.problem == "modadd":
            c.data.p, c.batch_size = 59, 2088  # ⌊0.6 · 59²⌋
            c.num_steps = 50_000
    if args.steps:
        c.num_steps = args.steps
    return c


def get_sweep(arg: str | None = None) -> list[str]:
    """One setting's runs as `get_config` arguments: lib; llc at width h with its planted
    paddings; llc at width 2h (the same parameter count, no planted degeneracy); each over
    seeds 0..N−1 (`seeds=N`; default `NUM_SEEDS[setting]`)."""
    args, setting = parse_setting(arg, seeds=0)
    seeds = args.seeds or NUM_SEEDS[setting]
    if seeds < 1:
        raise UserError(f"seeds must be at least 1, got {seeds}")
    extra = f",{setting}" + (f",steps={args.steps}" if args.steps else "")
    h = LLC_WIDTH[setting]
    runs = ["problem=lib", f"problem=llc,width={h}", f"problem=llc,width={2 * h}"]
    runs += ["problem=modadd", "problem=twotask"]
    return [f"{run},seed={s}{extra}" for run in runs for s in range(seeds)]
