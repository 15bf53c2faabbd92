"""Quantum circuits simulated exactly in JAX: states, gates, measurement, noise, gradients, a layer.

- `statevector`: n-qubit states as `(2,) * n` complex arrays, gates applied axis by axis.
- `gates`: H, X, Y, Z, CNOT, CZ and the rotations RX, RY, RZ, RZZ = exp(−iθ/2 · P).
- `measure`: probabilities, ⟨Z_i⟩, shot sampling and shot estimates.
- `density`, `channels`: density matrices `(2,) * 2n`; depolarizing, readout error, `NoiseModel`.
- `circuit`: `Circuit` (gates as data; angles `Input(i)`, `Weight(i)` or constants), `simulate`.
- `gradients`: `circuit_function` (weights, inputs) -> readout with autodiff or parameter shift.
- `layer`: `CircuitLayer`, the circuit as a Flax Linen layer vmapped over the batch.
"""

from disentax.quantum.channels import NoiseModel, depolarize, readout_error
from disentax.quantum.circuit import (
    Circuit,
    Input,
    Weight,
    evolve_density,
    evolve_state,
    gate_angles,
    simulate,
    simulate_density,
)
from disentax.quantum.density import density_matrix
from disentax.quantum.gates import CNOT, CZ, H, X, Y, Z, check_unitary, rx, ry, rz, rzz
from disentax.quantum.gradients import (
    circuit_function,
    measured_probabilities,
    parameter_shift_jacobian,
    readout_from_probabilities,
)
from disentax.quantum.layer import CircuitLayer
from disentax.quantum.measure import (
    estimate_expval_z,
    estimate_probabilities,
    expval_z,
    probabilities,
    sample,
)
from disentax.quantum.statevector import (
    apply_cnot,
    apply_diagonal,
    apply_gate,
    basis_state,
    norm,
    zero_state,
)

__all__ = [
    "CNOT",
    "CZ",
    "Circuit",
    "CircuitLayer",
    "H",
    "Input",
    "NoiseModel",
    "Weight",
    "X",
    "Y",
    "Z",
    "apply_cnot",
    "apply_diagonal",
    "apply_gate",
    "basis_state",
    "check_unitary",
    "circuit_function",
    "density_matrix",
    "depolarize",
    "estimate_expval_z",
    "estimate_probabilities",
    "evolve_density",
    "evolve_state",
    "expval_z",
    "gate_angles",
    "measured_probabilities",
    "norm",
    "parameter_shift_jacobian",
    "probabilities",
    "readout_error",
    "readout_from_probabilities",
    "rx",
    "ry",
    "rz",
    "rzz",
    "sample",
    "simulate",
    "simulate_density",
    "zero_state",
]
