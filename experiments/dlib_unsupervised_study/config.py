"""disentanglement_lib's unsupervised study (Locatello et al. 2019) run as populations.

Members are `experiments.dlib_unsupervised.config`'s runs (imported from it, not copied), on
two procedural datasets. `get_sweep(arg)` lists them; `get_config(arg)` is one member. Arguments:
comma-separated `key=value` items and flags, as `dlib_unsupervised`'s (`model`, its
hyperparameter, `dataset`, `seed`, `smoke`) plus:
- default (no flag): disentanglement_lib's setting for accelerators: 6 models × 6 values × 50
  seeds × `DATASETS`, 300,000 steps (150,000 FactorVAE iterations), `dlib_conv_vae`, batch 64,
  the study's six metrics (`STUDY_METRICS`);
- `small`: what this 2-core CPU can train: `tiny_conv_vae`, `steps` (default `SMALL_STEPS`)
  steps of batch `SMALL_BATCH_SIZE` at the dataset's learning rate (`SMALL_LEARNING_RATES`),
  `values` of each model's grid (its first and last by default) × `seeds` seeds (default 2),
  scored with MIG, DCI, SAP and modularity on 2,000 / 1,000 points; the annealed VAE's capacity
  schedule is shortened in proportion;
- `smoke`: `dlib_unsupervised`'s smoke run (a few steps of a tiny model, for tests).
"""

import ml_collections

from disentax import config as config_lib
from disentax.errors import UserError
from experiments.dlib_unsupervised import config as unsupervised

DATASETS = ("dsprites_procedural", "shapes3d_procedural")
SMALL_STEPS = 300
SMALL_BATCH_SIZE = 32
# Measured (README): 3e-3 learns dSprites ~2.5x faster than 1e-3 but collapses Shapes3D's β = 1
# VAE (KL 0.08 nats after 300 steps); other datasets get 1e-3.
SMALL_LEARNING_RATES = {"dsprites_procedural": 3e-3, "shapes3d_procedural": 1e-3}
SMALL_LEARNING_RATE = 1e-3
SMALL_METRICS = "mig,dci,sap,modularity"
# The study's metrics (disentanglement_lib `unsupervised_study_v1/metric_configs`).
STUDY_METRICS = "beta_vae_score,factor_vae_score,mig,dci,modularity_explicitness,sap"


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """One member (module docstring): `small` and `steps` are this file's, the rest
    `dlib_unsupervised`'s."""
    own, rest = _split(arg, ("small", "steps"))
    args = config_lib.parse_arg(own, small=False, steps=SMALL_STEPS)
    if not args.small:
        c = unsupervised.get_config(arg)
        if "smoke" not in rest.split(","):
            c.eval.metrics = STUDY_METRICS
        return c
    steps = args.steps
    if steps <= 0:
        raise UserError(f"steps must be positive, got {steps}")
    c = unsupervised.get_config(rest)
    # FactorVAE counts its two updates as two of disentanglement_lib's steps (TRAINING_STEPS).
    c.num_steps = c.num_steps * steps // unsupervised.TRAINING_STEPS
    if "iteration_threshold" in c.objective:  # the annealed VAE reaches C_max at the same fraction
        c.objective.iteration_threshold = max(
            1, c.objective.iteration_threshold * steps // unsupervised.TRAINING_STEPS
        )
    c.model = "tiny_conv_vae"
    c.batch_size = SMALL_BATCH_SIZE
    c.optimizer.learning_rate = SMALL_LEARNING_RATES.get(c.dataset, SMALL_LEARNING_RATE)
    c.log_every_steps = max(1, steps // 4)
    c.checkpoint_every_steps = steps
    c.eval.metrics = SMALL_METRICS
    c.eval.representations = "mean"
    c.eval.num_samples = 2_000
    c.eval.num_test_samples = 1_000
    c.eval.batch_size = 500
    return c


def get_sweep(arg: str | None = None) -> list[str]:
    """Arguments of this file, one per member: every model × `values` of its grid × `seeds`
    seeds × `dataset` (default both of `DATASETS`). Default: the whole grid and 50 seeds
    (3,600 runs); `small`: the grid's first and last values and 2 seeds (48 runs); `smoke`:
    one value and one seed per model (12 runs)."""
    args = config_lib.parse_arg(
        arg, dataset="", values=0, seeds=0, steps=0, small=False, smoke=False
    )
    default_values, default_seeds = (2, 2) if args.small else (1, 1) if args.smoke else (6, 50)
    num_values, num_seeds = args["values"] or default_values, args.seeds or default_seeds
    if not 1 <= num_values <= 6 or num_seeds < 1:
        raise UserError(
            f"values must be in 1..6 and seeds >= 1, got values={num_values}, seeds={num_seeds}"
        )
    datasets = args.dataset.split("+") if args.dataset else DATASETS
    suffix = "".join(f",{flag}" for flag in ("small", "smoke") if args[flag])
    if args.steps:
        suffix += f",steps={args.steps}"
    return [
        f"model={model},{hparam}={value},dataset={dataset},seed={seed}{suffix}"
        for dataset in datasets
        for model, (_, hparam, grid, _) in unsupervised.MODELS.items()
        for value in spread(grid, num_values)
        for seed in range(num_seeds)
    ]


def spread(grid: tuple, n: int) -> tuple:
    """`n` values of `grid` from its first to its last, evenly by position."""
    if n == 1:
        return (grid[0],)
    return tuple(grid[round(i * (len(grid) - 1) / (n - 1))] for i in range(n))


def _split(arg: str | None, keys: tuple[str, ...]) -> tuple[str, str]:
    """`arg`'s items whose key (or flag) is in `keys`, and the others, each joined by commas."""
    items = [i.strip() for i in (arg or "").split(",") if i.strip()]
    own = [i for i in items if i.partition("=")[0] in keys]
    return ",".join(own), ",".join(i for i in items if i not in own)
