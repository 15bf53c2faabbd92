"""Quantum convolutional autoencoder with a QAOA bottleneck (Kea et al., arXiv 2401.06367): one
run of P49 (`task.py`).

Argument (`disentax.config.parse_arg`): comma-separated `key=value` items and flags, e.g.
`experiments.p49_qaoa_autoencoder.config:variant=qaoa,p=3,qubits=6,sigma=0.4,seed=1,cpu`:
- `variant`: qaoa (the default; the paper's QCAE), hea (hardware-efficient RY + CNOT ansatz),
  none (no entanglement: RZ local fields + RX mixer) or classical (the CAE: the same network
  without the circuit, parameter-matched up to the circuit's 2p angles);
- `p`: the circuit's layers (default `P_MAIN`; not for classical); `qubits`: n, the latent's
  size (default 6); `sigma`: the noise level (default 0.4); `noclip`: noisy pixels not clipped
  to [0, 1] (default: clipped); `seed` (default 0); `steps` (0: the setting's);
- the setting, one flag: `cpu` (the claim run, the default), `smoke` (a few steps, for tests) or
  `paper` (the full grid, longer training and more seeds, for accelerators; the paper's MNIST
  is not available offline, so still the 8×8 digits: README "Deviations").
`get_sweep(arg)` lists one setting's runs (`run_arguments`) over seeds 0..N−1 (`seeds=N`
overrides the setting's number).
"""

import ml_collections

from disentax.errors import UserError
from experiments.p49_qaoa_autoencoder.bottleneck import ANSATZE
from experiments.settings import parse_setting

TASK = "experiments.p49_qaoa_autoencoder.task"
VARIANTS = (*ANSATZE, "classical")
NUM_SEEDS = {"cpu": 3, "smoke": 1, "paper": 10}
P_MAIN = 2  # the depth of the qubit and noise sweeps (the paper's own is not retrieved)
QUBITS_MAIN, SIGMA_MAIN = 6, 0.4
DEPTHS = (1, 2, 3, 4)
GRID = {  # (ansätze × depths at QUBITS_MAIN, SIGMA_MAIN; qubit counts; noise levels)
    "cpu": {"qubits": (4, 6, 8), "sigmas": (0.2, 0.4)},
    "paper": {"qubits": (4, 6, 8), "sigmas": (0.2, 0.4)},
}
STEPS = {"cpu": 1000, "smoke": 4, "paper": 20000}


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """One run (module docstring)."""
    args, setting = parse_setting(
        arg, variant="qaoa", p=-1, qubits=QUBITS_MAIN, sigma=SIGMA_MAIN, noclip=False, seed=0
    )
    if args.variant not in VARIANTS:
        raise UserError(f"unknown variant {args.variant!r}; known: {', '.join(VARIANTS)}")
    if args.variant == "classical" and args.p != -1:
        raise UserError("the classical CAE has no circuit layers (p)")
    depth = P_MAIN if args.p == -1 else args.p
    if depth < 0 or args.qubits < 2 or args.sigma < 0:
        raise UserError(
            f"p must be >= 0, qubits >= 2 and sigma >= 0, got {depth}, {args.qubits}, {args.sigma}"
        )
    quantum = args.variant != "classical"
    c = ml_collections.ConfigDict()
    c.task = TASK
    c.seed = args.seed
    c.data = ml_collections.ConfigDict(
        {"split_seed": 0, "num_test": 450, "noise_sigma": float(args.sigma),
         "clip": not args.noclip}
    )  # fmt: skip
    c.model = ml_collections.ConfigDict(
        {"latent": args.qubits, "channels": (8, 16),
         "bottleneck": "quantum" if quantum else "classical",
         "ansatz": args.variant if quantum else "qaoa", "depth": depth if quantum else 0,
         "gradient": "autodiff"}
    )  # fmt: skip
    c.optimizer = ml_collections.ConfigDict(
        {"learning_rate": 3e-3, "b1": 0.9, "b2": 0.999, "eps": 1e-8, "weight_decay": 0.0,
         "decay_pattern": "."}
    )  # fmt: skip
    c.num_steps = STEPS[setting]
    c.batch_size = 64
    c.eval = ml_collections.ConfigDict({"every_steps": 0})
    c.log_every_steps = min(400, c.num_steps)
    c.checkpoint_every_steps = c.num_steps
    c.keep_checkpoints = 1
    c.async_checkpoints = True
    if setting == "smoke":
        c.batch_size = 16
    elif setting == "paper":
        c.batch_size = 128
    if args.steps:
        c.num_steps = args.steps
        c.log_every_steps = min(c.log_every_steps, args.steps)
        c.checkpoint_every_steps = args.steps
    return c


def run_arguments(setting: str) -> list[str]:
    """The setting's runs, without seed and setting: at n = `QUBITS_MAIN`, σ = `SIGMA_MAIN` the
    CAE and every ansatz at every depth of `DEPTHS`; at the other qubit counts and noise levels
    of `GRID[setting]` the CAE and the QAOA at `P_MAIN` (`paper`: every ansatz and depth at every
    point). `smoke`: the QAOA at p = 1, n = 4 alone (compiling a run is most of the test's time;
    the CAE's path runs in the committed `cpu` results)."""
    if setting == "smoke":
        return ["variant=qaoa,p=1,qubits=4"]
    grid = GRID[setting]
    runs = []
    for sigma in grid["sigmas"]:
        for n in grid["qubits"]:
            main = (n, sigma) == (QUBITS_MAIN, SIGMA_MAIN) or setting == "paper"
            point = f"qubits={n},sigma={sigma:g}"
            runs.append(f"variant=classical,{point}")
            for ansatz in ANSATZE if main else ("qaoa",):
                for p in DEPTHS if main else (P_MAIN,):
                    runs.append(f"variant={ansatz},p={p},{point}")
    if setting == "cpu":  # the noise sweep at QUBITS_MAIN only, the qubit sweep at SIGMA_MAIN only
        runs = [r for r in runs if f"sigma={SIGMA_MAIN:g}" in r or f"qubits={QUBITS_MAIN}," in r]
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
