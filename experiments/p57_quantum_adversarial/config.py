"""Experimental quantum adversarial learning (Ren et al., Nat. Comput. Sci. 2022): one run of P57
(`task.py`).

Argument (`disentax.config.parse_arg`): comma-separated `key=value` items and flags, e.g.
`experiments.p57_quantum_adversarial.config:data=digits,pair=3v8,adversarial,seed=1,cpu`:
- `data`: digits (the 10-qubit classifier on a `load_digits` pair, the default) or ising
  (ground states of the transverse-field Ising chain, two phases);
- `pair` (digits): two digits "AvB", default 1v9 (the paper's MNIST pair);
- `adversarial` (a flag): adversarial training at the setting's ε (`TRAIN_EPSILON`);
- `seed` (default 0); `steps` (0: the setting's);
- the setting, one flag: `cpu` (the claim run, the default), `smoke` (a few steps, for tests)
  or `paper` (16×16 images, 2× upsampled digits, 9 blocks; for an accelerator); `smoke`
  runs 4 qubits (6 blocks) and 4 spins.
`get_sweep(arg)` lists one setting's runs over seeds 0..N−1 (`seeds=N` overrides the
setting's number): `run_arguments(setting)`.
"""

import ml_collections

from disentax.errors import UserError
from experiments.settings import parse_setting

TASK = "experiments.p57_quantum_adversarial.task"
NUM_SEEDS = {"cpu": 3, "smoke": 1, "paper": 5}
PAIRS = ("1v9", "3v8")
# The attack radii (radians on the input angles) and adversarial training's; the claims read the
# accuracy at `CLAIM_EPSILON` (about 5 % of the digits' 2-radian angle range).
EPSILONS = {"digits": (0.02, 0.05, 0.1, 0.2, 0.4), "ising": (0.02, 0.05, 0.1, 0.2, 0.4)}
TRAIN_EPSILON = {"digits": 0.1, "ising": 0.1}
CLAIM_EPSILON = {"digits": 0.1, "ising": 0.1}
# The chip's simultaneous gate fidelities (abstract); its readout fidelities were not retrieved.
FIDELITY_1Q, FIDELITY_2Q = 0.9994, 0.994
READOUT_P01, READOUT_P10 = 0.02, 0.05  # assumed typical transmon readout errors (README)


def parse_pair(text: str) -> tuple[int, int]:
    parts = text.split("v")
    if (
        len(parts) != 2
        or not all(p.isdigit() and len(p) == 1 for p in parts)
        or parts[0] == parts[1]
    ):
        raise UserError(f"pair must be two different digits as 'AvB' (e.g. 1v9), got {text!r}")
    return int(parts[0]), int(parts[1])


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """One run (module docstring)."""
    args, setting = parse_setting(arg, data="digits", pair="1v9", adversarial=False, seed=0)
    if args.data not in ("digits", "ising"):
        raise UserError(f"unknown data {args.data!r}; known: digits, ising")
    if args.data == "ising" and args.pair != "1v9":
        raise UserError("only the digits have a pair")
    c = ml_collections.ConfigDict()
    c.task = TASK
    c.seed = args.seed
    size = 16 if setting == "paper" else 8
    if args.data == "digits":
        c.data = ml_collections.ConfigDict(
            {"kind": "digits", "pair": parse_pair(args.pair), "image_size": size,
             "pixels": size * size, "split_seed": 0, "test_fraction": 0.25}
        )  # fmt: skip
        blocks = 9 if setting == "paper" else 3  # 256 pixels in 9 × 30 angles; 64 in 3 × 30
        c.model = ml_collections.ConfigDict(
            {"num_qubits": 10, "blocks": blocks, "angle_scale": 2.0, "readout": 4}
        )
    else:
        c.data = ml_collections.ConfigDict(
            {"kind": "ising", "split_seed": 0, "num_train": 200, "num_test": 100,
             "ferro": (0.3, 0.9), "para": (1.1, 2.0)}
        )  # fmt: skip
        c.model = ml_collections.ConfigDict(
            {"num_qubits": 8, "layers": 3, "angle_scale": 1.0, "readout": 4}
        )
    c.attack = ml_collections.ConfigDict({"epsilons": EPSILONS[args.data], "steps": 10})
    c.adversarial = ml_collections.ConfigDict(
        {"epsilon": TRAIN_EPSILON[args.data] if args.adversarial else 0.0, "steps": 2}
    )
    c.noise = ml_collections.ConfigDict(
        {"examples": 20 if args.data == "digits" and not args.adversarial else 0, "chunk": 4,
         "fidelity_1q": FIDELITY_1Q, "fidelity_2q": FIDELITY_2Q,
         "readout_p01": READOUT_P01, "readout_p10": READOUT_P10}
    )  # fmt: skip
    c.optimizer = ml_collections.ConfigDict(
        {"learning_rate": 0.05, "b1": 0.9, "b2": 0.999, "eps": 1e-8, "weight_decay": 0.0,
         "decay_pattern": "."}
    )  # fmt: skip
    c.num_steps = 400 if args.data == "digits" else 300
    c.batch_size = 32
    c.eval = ml_collections.ConfigDict({"every_steps": 0})
    c.log_every_steps = 100
    c.checkpoint_every_steps = c.num_steps
    c.keep_checkpoints = 1
    c.async_checkpoints = True
    if setting == "smoke":
        c.num_steps, c.batch_size = 4, 8
        c.log_every_steps = c.checkpoint_every_steps = 2
        c.attack.steps, c.attack.epsilons = 2, (0.1,)
        c.adversarial.steps = 1
        c.noise.examples, c.noise.chunk = (2 if args.data == "digits" else 0), 2
        # 4 qubits (6 blocks hold the 64 pixels; 4 spins): every path, compiled in seconds
        c.model.num_qubits, c.model.readout = 4, 1
        if args.data == "digits":
            c.model.blocks = 6
        else:
            c.data.num_train, c.data.num_test = 8, 8
    elif setting == "paper":
        c.num_steps, c.checkpoint_every_steps = 3000, 1000
        c.noise.examples = 200 if args.data == "digits" else 0
    if args.steps:
        c.num_steps = args.steps
    return c


def run_arguments(setting: str) -> list[str]:
    """The setting's runs, without seed and setting: per digits pair and the quantum data, the
    standard and the adversarially trained classifier (`smoke`: the first pair and the quantum
    data, adversarially trained: the most involved runs)."""
    if setting == "smoke":
        return [f"data=digits,pair={PAIRS[0]},adversarial", "data=ising,adversarial"]
    runs = []
    for data in [f"data=digits,pair={p}" for p in PAIRS] + ["data=ising"]:
        runs += [data, f"{data},adversarial"]
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
