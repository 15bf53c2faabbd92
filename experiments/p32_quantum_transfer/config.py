"""Quantum transfer learning (Sarkar, arXiv 2408.03351): one run of P32 (`task.py`).

Argument (`disentax.config.parse_arg`): comma-separated `key=value` items and flags, e.g.
`experiments.p32_quantum_transfer.config:variant=quantum,scale=0.5,shots=1024,seed=2,cpu`:
- `variant`: classical (the default; the MLP on the autoencoder's latent, the paper's
  baseline), pca (the MLP on the 5 principal components the circuit reads; a control) or
  quantum (the MLP on the 5-qubit feature map's 32 outcome probabilities, the paper's hybrid);
- `scale` (quantum): the angles θ_i = scale·π·u_i, u_i ∈ [0, 1] the min–max scaled component
  (default 1: θ ∈ [0, π]); `shots` (quantum; 0, the default: exact probabilities);
- `seed` (default 0); `steps` (0: the setting's; the autoencoder keeps its steps when it fits);
- the setting, one flag: `cpu` (the claim run, the default), `smoke` (a few steps, for tests)
  or `paper` (more seeds, longer training; still the 8×8 digits, README "Deviations").
`get_sweep(arg)` lists one setting's runs over seeds 0..N−1 (`seeds=N` overrides the setting's
number): classical, pca and quantum at every scale of `SCALES[setting]`, exact and with
`SHOTS` shots (`smoke`: classical and quantum with shots, `run_arguments`).
"""

import ml_collections

from disentax.errors import UserError
from experiments.settings import parse_setting

TASK = "experiments.p32_quantum_transfer.task"
VARIANTS = ("classical", "pca", "quantum")
KIND = {"classical": "latent", "pca": "pca", "quantum": "quantum"}
NUM_SEEDS = {"cpu": 5, "smoke": 1, "paper": 10}
SHOTS = 1024  # Qiskit's default number of shots; the paper's own is not given
PAPER_SCALE = 1.0  # θ ∈ [0, π]; the paper says "scaled feature", no range (README)
SCALES = {"cpu": (0.25, 0.5, 1.0, 2.0), "smoke": (1.0,), "paper": (0.25, 0.5, 1.0, 2.0)}


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """One run (module docstring)."""
    args, setting = parse_setting(arg, variant="classical", scale=PAPER_SCALE, shots=0, seed=0)
    if args.variant not in VARIANTS:
        raise UserError(f"unknown variant {args.variant!r}; known: {', '.join(VARIANTS)}")
    if args.variant != "quantum" and (args.shots or args.scale != PAPER_SCALE):
        raise UserError("only the quantum variant has shots and an angle scale")
    if args.shots < 0 or args.scale <= 0:
        raise UserError(f"shots must be >= 0 and scale > 0, got {args.shots} and {args.scale}")
    c = ml_collections.ConfigDict()
    c.task = TASK
    c.seed = args.seed
    c.data = ml_collections.ConfigDict({"split_seed": 0, "test_fraction": 0.25})
    c.model = ml_collections.ConfigDict({"latent": 16, "widths": (128, 64)})
    c.features = ml_collections.ConfigDict(
        {"kind": KIND[args.variant], "num_qubits": 5, "angle_scale": float(args.scale),
         "shots": args.shots}
    )  # fmt: skip
    c.optimizer = ml_collections.ConfigDict(
        {"learning_rate": 3e-3, "b1": 0.9, "b2": 0.999, "eps": 1e-8, "weight_decay": 0.0,
         "decay_pattern": "."}
    )  # fmt: skip
    c.phases = ml_collections.ConfigDict({"autoencoder_steps": 600})
    c.num_steps = 1500  # 600 autoencoder steps, then 900 head steps (86 epochs at 128)
    c.batch_size = 128
    c.eval = ml_collections.ConfigDict({"every_steps": 0})
    c.log_every_steps = 500
    c.checkpoint_every_steps = 1500
    c.keep_checkpoints = 1
    c.async_checkpoints = True
    if setting == "smoke":
        c.phases.autoencoder_steps, c.num_steps = 3, 6
        c.log_every_steps = c.checkpoint_every_steps = 3
        c.batch_size = 32
    elif setting == "paper":
        c.phases.autoencoder_steps, c.num_steps = 4000, 12000
        c.checkpoint_every_steps = 4000
    if args.steps:
        c.num_steps = args.steps
        c.phases.autoencoder_steps = min(c.phases.autoencoder_steps, args.steps)
    return c


def run_arguments(setting: str) -> list[str]:
    """The setting's runs, without seed and setting: classical, pca, then quantum per scale,
    exact and with `SHOTS` shots; `smoke` only classical and quantum with shots (the most
    involved run) at the paper's scale."""
    if setting == "smoke":
        return ["variant=classical", f"variant=quantum,scale={PAPER_SCALE},shots={SHOTS}"]
    runs = ["variant=classical", "variant=pca"]
    for scale in SCALES[setting]:
        runs += [f"variant=quantum,scale={scale}", f"variant=quantum,scale={scale},shots={SHOTS}"]
    return runs


def get_sweep(arg: str | None = None) -> list[str]:
    """One setting's runs as `get_config` arguments (`run_arguments`), each over seeds
    0..N−1 (`seeds=N`; default `NUM_SEEDS[setting]`)."""
    args, setting = parse_setting(arg, seeds=0)
    seeds = args.seeds or NUM_SEEDS[setting]
    if seeds < 1:
        raise UserError(f"seeds must be at least 1, got {seeds}")
    extra = f",{setting}" + (f",steps={args.steps}" if args.steps else "")
    return [f"{run},seed={s}{extra}" for run in run_arguments(setting) for s in range(seeds)]
