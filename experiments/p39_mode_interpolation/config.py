"""Understanding hallucinations in diffusion models through mode interpolation (Aithal et al.,
NeurIPS 2024): one DDPM run of P39 (`task.py`).

Argument (`disentax.config.parse_arg`): comma-separated `key=value` items and flags, e.g.
`experiments.p39_mode_interpolation.config:kind=rotated,seed=2,cpu`:
- `kind`: line (1-D {1, 2, 3}), grid (the 5×5 grid, the default) or rotated (its 45° control);
- `samples`: a `.npy` file of samples to train on instead of the mixture (recursive training;
  `main.py` writes them), with `filter` (variance or random) and `generation` (≥ 1) naming it;
- `seed` (default 0); `steps` (0: the setting's);
- the setting, one flag: `cpu` (the claim run, the default), `smoke` (seconds, for tests) or
  `paper` (the paper's sizes, for accelerators; built and checked by a test, not run).
`get_sweep(arg)` lists one setting's first runs: every kind over seeds 0..N−1 (`seeds=N`).
`RECURSION[setting]` sizes the recursive training that `main.py` runs after them.
"""

import ml_collections

from disentax.errors import UserError
from experiments.p39_mode_interpolation import hallucination
from experiments.settings import parse_setting

TASK = "experiments.p39_mode_interpolation.task"
NUM_SEEDS = {"cpu": 3, "smoke": 1, "paper": 5}
RECURSIVE_STEPS = {"cpu": 2000, "smoke": 6, "paper": 20_000}  # training steps of generations ≥ 1
# recursive training on the grid: generations after the first model, the pool sampled from
# each model and the samples its filter keeps (the paper's code: 500k sampled, 100k kept)
RECURSION = {
    "cpu": {"generations": 2, "pool": 5000, "keep": 1000},
    "smoke": {"generations": 1, "pool": 64, "keep": 16},
    "paper": {"generations": 5, "pool": 500_000, "keep": 100_000},
}


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """One run (module docstring)."""
    args, setting = parse_setting(arg, kind="grid", samples="", filter="", generation=0, seed=0)
    hallucination.modes(args.kind)
    if bool(args.samples) != bool(args.filter) or bool(args.filter) != (args.generation > 0):
        raise UserError("samples, filter and generation (>= 1) go together (recursive training)")
    if args.filter and args.filter not in hallucination.FILTERS:
        known = ", ".join(hallucination.FILTERS)
        raise UserError(f"unknown filter {args.filter!r}; known: {known}")
    c = ml_collections.ConfigDict()
    c.task = TASK
    c.seed = args.seed
    c.data = ml_collections.ConfigDict({"kind": args.kind, "std": 0.05, "samples": args.samples})
    c.recursion = ml_collections.ConfigDict({"filter": args.filter, "generation": args.generation})
    c.diffusion = ml_collections.ConfigDict(
        {"num_timesteps": 1000, "beta_start": 1e-3, "beta_end": 0.2}
    )
    c.model = ml_collections.ConfigDict(
        {"width": 128, "depth": 3, "embedding_dim": 64, "activation": "leaky_relu"}
    )
    c.optimizer = ml_collections.ConfigDict(
        {"learning_rate": 3e-3, "b1": 0.9, "b2": 0.999, "eps": 1e-8, "weight_decay": 0.0,
         "decay_pattern": "kernel"}
    )  # fmt: skip
    c.batch_size = 512
    c.num_steps = 3000
    c.log_every_steps = 500
    c.checkpoint_every_steps = 3000
    c.keep_checkpoints = 1
    c.async_checkpoints = True
    c.eval = ml_collections.ConfigDict(
        {"every_steps": 0, "num_samples": 4000, "last_steps": 10, "chunk": 5000}
    )
    if setting in ("cpu", "smoke"):  # the same β range over 100 steps (README "Deviations")
        c.diffusion.num_timesteps = 100
    if setting == "smoke":
        c.model.update({"width": 16, "depth": 1, "embedding_dim": 8})
        c.batch_size, c.num_steps = 32, 6
        c.log_every_steps = c.checkpoint_every_steps = 3
        c.eval.num_samples = 64
    elif setting == "paper":
        c.batch_size, c.num_steps = 1024, 20_000
        c.checkpoint_every_steps = 5000
        c.eval.num_samples, c.eval.chunk = 100_000, 20_000
    if args.filter:  # recursive runs: main.py samples their pools; their own scores stay small
        c.eval.num_samples = min(c.eval.num_samples, 1000)
        c.num_steps = RECURSIVE_STEPS[setting]
    if args.steps:
        c.num_steps = args.steps
    return c


def get_sweep(arg: str | None = None) -> list[str]:
    """The setting's first runs as `get_config` arguments: line, grid, rotated, each over seeds
    0..N−1 (`seeds=N`; default `NUM_SEEDS[setting]`)."""
    args, setting = parse_setting(arg, seeds=0)
    seeds = args.seeds or NUM_SEEDS[setting]
    if seeds < 1:
        raise UserError(f"seeds must be at least 1, got {seeds}")
    extra = f",{setting}" + (f",steps={args.steps}" if args.steps else "")
    return [f"kind={k},seed={s}{extra}" for k in hallucination.KINDS for s in range(seeds)]
