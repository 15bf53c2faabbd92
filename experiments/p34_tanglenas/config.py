"""TangleNAS (Sukthanker et al.): one run of P34 (`task.py`) on the conv-macro space of `layers`.

Argument (`disentax.config.parse_arg`): comma-separated `key=value` items and flags, e.g.
`experiments.p34_tanglenas.config:method=darts,seed=2,cpu`:
- `method`: fixed (one architecture trained alone, `arch` its index), spos, darts (default) or
  drnas; `seed` (default 0); `arch` (fixed only); `steps` (0: the setting's);
- the setting, one flag: `cpu` (the claim run, the default: 2 layers, 81 architectures),
  `smoke` (1 layer, 9 architectures, a few steps, for tests) or `paper` (3 layers, 729
  architectures, longer training; for accelerators).
`get_sweep(arg)` lists one setting's runs: every architecture × the ground-truth seeds, then
darts, drnas and spos × the search seeds (`seeds=N` overrides the search seeds' number).
"""

import ml_collections

from disentax.errors import UserError
from experiments.settings import parse_setting

TASK = "experiments.p34_tanglenas.task"
METHODS = ("fixed", "spos", "darts", "drnas")
NUM_LAYERS = {"cpu": 2, "smoke": 1, "paper": 3}
NUM_SEEDS = {"cpu": 5, "smoke": 1, "paper": 10}  # search seeds 0..N−1
# Ground truth: one seed per architecture on CPU (81 runs; a second doubles the run's cost).
GT_SEEDS = {"cpu": (100,), "smoke": (100,), "paper": (100, 101, 102)}
# Training steps: a ground-truth architecture alone, a search method's steps (each an
# arch update on a validation batch and a weight update on a training batch: 2 gradient passes),
# and SPOS's steps = twice the search steps, the same number of gradient passes.
STEPS = {
    "cpu": {"fixed": 250, "darts": 500, "drnas": 500, "spos": 1000},
    "smoke": {"fixed": 4, "darts": 4, "drnas": 4, "spos": 8},
    "paper": {"fixed": 3000, "darts": 5000, "drnas": 5000, "spos": 10000},
}
BATCH_SIZE = {"cpu": 32, "smoke": 32, "paper": 64}
# The ground truth trains as populations of at most this many members: under the CPU's "loop"
# strategy a member's step costs time in proportion to the population's size (81 members: ~20×
# the per-member time of 8; NOTES.md), under "vmap" a step of all of them is 4× slower per member.
GT_CHUNK = {"cpu": 9, "smoke": 9, "paper": 81}
# Stage two of SPOS + RS: architectures drawn without replacement (per search seed) and ranked by
# their validation accuracy with the supernet's inherited weights.
RS_SAMPLES = {"cpu": 20, "smoke": 3, "paper": 100}


def adam(learning_rate, b1=0.9, b2=0.999, weight_decay=0.0) -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict(
        {"learning_rate": learning_rate, "b1": b1, "b2": b2, "eps": 1e-8,
         "weight_decay": weight_decay, "decay_pattern": "."}
    )  # fmt: skip


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """One run (module docstring)."""
    args, setting = parse_setting(arg, method="darts", seed=0, arch=-1)
    if args.method not in METHODS:
        raise UserError(f"unknown method {args.method!r}; known: {', '.join(METHODS)}")
    c = ml_collections.ConfigDict()
    c.task = TASK
    c.method = args.method
    c.seed = args.seed
    c.model = ml_collections.ConfigDict({"num_layers": NUM_LAYERS[setting]})
    # 1,797 digits: 997 train, 400 validation (the arch updates, stage-two search), 400 test
    # (the ground truth's accuracy).
    c.data = ml_collections.ConfigDict({"split_seed": 0, "num_val": 400, "num_test": 400})
    c.optimizer = adam(3e-3)
    c.objective = ml_collections.ConfigDict()
    if args.method == "fixed":
        if args.arch < 0:
            raise UserError("method=fixed needs arch=<index>")
        c.objective.arch = args.arch
    elif args.arch >= 0:
        raise UserError("only method=fixed takes arch")
    if args.method in ("darts", "drnas"):
        # DARTS's architecture optimizer (Adam, β1 = 0.5, weight decay 1e-3), its rate raised
        # from 3e-4 for runs of hundreds, not tens of thousands, of steps (README "Deviations").
        c.arch_optimizer = adam(3e-2, b1=0.5, weight_decay=1e-3)
    c.batch_size = BATCH_SIZE[setting]
    c.num_steps = args.steps or STEPS[setting][args.method]
    c.eval = ml_collections.ConfigDict({"every_steps": 0})
    c.log_every_steps = max(1, min(200, c.num_steps))
    c.checkpoint_every_steps = max(1, c.num_steps)
    c.keep_checkpoints = 1
    c.async_checkpoints = False
    return c


def get_sweep(arg: str | None = None) -> list[str]:
    """One setting's runs as `get_config` arguments (module docstring)."""
    args, setting = parse_setting(arg, seeds=0)
    seeds = args.seeds or NUM_SEEDS[setting]
    if seeds < 1:
        raise UserError(f"seeds must be at least 1, got {seeds}")
    extra = f",{setting}" + (f",steps={args.steps}" if args.steps else "")
    n = (len((8, 16, 32)) * len((3, 5, 7))) ** NUM_LAYERS[setting]
    runs = [f"method=fixed,arch={a},seed={s}" for a in range(n) for s in GT_SEEDS[setting]]
    runs += [f"method={m},seed={s}" for m in ("darts", "drnas", "spos") for s in range(seeds)]
    return [run + extra for run in runs]
