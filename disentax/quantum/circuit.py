"""A circuit as data: an immutable list of gates on named wires, its rotation angles read from
the inputs, the trainable weights or constants, and its simulation (pure state or noisy ρ).

    circuit = Circuit(2).h(0).ry(1, Input(0)).cnot(0, 1).rzz(0, 1, Weight(0))
    state = simulate(circuit, weights=jnp.array([0.3]), inputs=jnp.array([1.2]))

A rotation's angle is an `Input(i)` (the i-th entry of the input vector: data encoding), a
`Weight(i)` (the i-th trainable weight; one weight may drive several gates) or a float. The
circuit is hashable, so it can be a Flax module's field or a `jit` static argument; `simulate`
unrolls its gates into one XLA program.
"""

import dataclasses
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from disentax.errors import UserError
from disentax.quantum import density as dm
from disentax.quantum import gates
from disentax.quantum import statevector as sv
from disentax.quantum.channels import NoiseModel


class Input(NamedTuple):
    """A rotation angle read from entry `index` of the circuit's input vector."""

    index: int


class Weight(NamedTuple):
    """A rotation angle read from entry `index` of the circuit's trainable weight vector."""

    index: int


FIXED_GATES = {
    "h": gates.H,
    "x": gates.X,
    "y": gates.Y,
    "z": gates.Z,
    "cnot": gates.CNOT,
    "cz": gates.CZ,
}
ROTATIONS = ("rx", "ry", "rz", "rzz")


@dataclasses.dataclass(frozen=True)
class Op:
    """One gate: its name (a key of `FIXED_GATES`, one of `ROTATIONS`, or "unitary"), its wires,
    its angle (rotations) or its matrix as nested tuples (a given unitary)."""

    name: str
    wires: tuple[int, ...]
    angle: float | Input | Weight | None = None
    matrix: tuple | None = None


@dataclasses.dataclass(frozen=True)
class Circuit:
    """`num_qubits` wires starting in |0…0⟩ and the gates `ops` applied in order.

    Each gate method returns a new circuit with that gate appended; a wire out of range, equal
    wires, an angle of the wrong kind or a non-unitary matrix is a one-line `UserError`.
    """

    num_qubits: int
    ops: tuple[Op, ...] = ()

    def __post_init__(self):
        if not isinstance(self.num_qubits, (int, np.integer)) or self.num_qubits < 1:
            raise UserError(f"num_qubits must be an integer >= 1, got {self.num_qubits!r}")

    def _add(self, name, wires, angle=None, matrix=None) -> "Circuit":
        wires = sv.check_wires(wires, self.num_qubits)
        if name in ROTATIONS:
            if isinstance(angle, (Input, Weight)):
                if not isinstance(angle.index, (int, np.integer)) or angle.index < 0:
                    raise UserError(f"{name} angle index must be an integer >= 0, got {angle}")
            elif isinstance(angle, (int, float, np.floating, np.integer)):
                angle = float(angle)
            else:
                raise UserError(
                    f"{name} angle must be Input(i), Weight(i) or a float, got {angle!r}"
                )
        return dataclasses.replace(self, ops=self.ops + (Op(name, wires, angle, matrix),))

    def h(self, wire: int) -> "Circuit":
        return self._add("h", (wire,))

    def x(self, wire: int) -> "Circuit":
        return self._add("x", (wire,))

    def y(self, wire: int) -> "Circuit":
        return self._add("y", (wire,))

    def z(self, wire: int) -> "Circuit":
        return self._add("z", (wire,))

    def rx(self, wire: int, angle) -> "Circuit":
        return self._add("rx", (wire,), angle)

    def ry(self, wire: int, angle) -> "Circuit":
        return self._add("ry", (wire,), angle)

    def rz(self, wire: int, angle) -> "Circuit":
        return self._add("rz", (wire,), angle)

    def cnot(self, control: int, target: int) -> "Circuit":
        return self._add("cnot", (control, target))

    def cz(self, a: int, b: int) -> "Circuit":
        return self._add("cz", (a, b))

    def rzz(self, a: int, b: int, angle) -> "Circuit":
        return self._add("rzz", (a, b), angle)

    def unitary(self, matrix, wires) -> "Circuit":
        """A fixed gate given by its `[2^k, 2^k]` matrix on `wires` (checked to be unitary)."""
        wires = tuple(wires)
        m = gates.check_unitary(matrix, len(wires))
        return self._add("unitary", wires, matrix=tuple(map(tuple, m.tolist())))

    @property
    def rotations(self) -> tuple[Op, ...]:
        """The rotation gates, in order: one angle each, the entries of `gate_angles`."""
        return tuple(op for op in self.ops if op.name in ROTATIONS)

    def _count(self, kind) -> int:
        indices = [op.angle.index for op in self.rotations if type(op.angle) is kind]
        return 1 + max(indices, default=-1)

    @property
    def num_inputs(self) -> int:
        """Length of the input vector: 1 + the largest `Input` index (0 if none)."""
        return self._count(Input)

    @property
    def num_weights(self) -> int:
        """Length of the weight vector: 1 + the largest `Weight` index (0 if none)."""
        return self._count(Weight)


def _vector(name, values, size, dtype):
    if values is None:
        if size:
            raise UserError(f"the circuit reads {size} {name}, none given")
        return jnp.zeros((0,), dtype)
    values = jnp.asarray(values)
    if values.shape != (size,):
        raise UserError(
            f"{name} of shape {values.shape} given; the circuit reads {size} {name}: shape "
            f"({size},)"
        )
    return values


def gate_angles(circuit: Circuit, weights=None, inputs=None):
    """θ_r for every rotation r of the circuit, gathered from inputs, weights and constants: `[R]`.

    `weights` `[num_weights]`, `inputs` `[num_inputs]` (None when the circuit reads none).
    """
    dtype = jnp.result_type(*(a for a in (weights, inputs) if a is not None), jnp.float32)
    inputs = _vector("inputs", inputs, circuit.num_inputs, dtype)
    weights = _vector("weights", weights, circuit.num_weights, dtype)
    rotations = circuit.rotations
    constants = [op.angle for op in rotations if isinstance(op.angle, float)]
    pool = jnp.concatenate(
        [inputs.astype(dtype), weights.astype(dtype), jnp.asarray(constants, dtype)]
    )
    index, next_constant = [], circuit.num_inputs + circuit.num_weights
    for op in rotations:
        if isinstance(op.angle, Input):
            index.append(op.angle.index)
        elif isinstance(op.angle, Weight):
            index.append(circuit.num_inputs + op.angle.index)
        else:
            index.append(next_constant)
            next_constant += 1
    return pool[np.asarray(index, np.int32)]


def _rotation(name, theta):
    """(kind, value) of a rotation: RZ and RZZ as diagonals, RX and RY as 2×2 matrices."""
    if name == "rz":
        return "diagonal", gates.rz_diagonal(theta)
    if name == "rzz":
        return "diagonal", gates.rzz_diagonal(theta)
    return "matrix", gates.rx(theta) if name == "rx" else gates.ry(theta)


def _gates(circuit, angles_R):
    """(kind, value, wires) of every gate in order: kind "matrix", "diagonal" or "cnot"."""
    r = 0
    for op in circuit.ops:
        if op.name in ROTATIONS:
            kind, value = _rotation(op.name, angles_R[r])
            r += 1
        elif op.name == "cnot":
            kind, value = "cnot", None
        elif op.name == "cz":
            kind, value = "diagonal", np.array([[1, 1], [1, -1]])
        elif op.name == "unitary":
            kind, value = "matrix", np.asarray(op.matrix)
        else:
            kind, value = "matrix", FIXED_GATES[op.name]
        yield kind, value, op.wires


def _check_angles(circuit, angles_R):
    if jnp.shape(angles_R) != (len(circuit.rotations),):
        raise UserError(
            f"angles of shape {jnp.shape(angles_R)} given; the circuit has "
            f"{len(circuit.rotations)} rotations, shape ({len(circuit.rotations)},)"
        )


def evolve_state(circuit: Circuit, angles_R):
    """U_G(θ) … U_1(θ) |0…0⟩ given every rotation's angle `[R]` (`gate_angles`): `(2,) * n`.

    Consecutive one-qubit gates on a wire are multiplied into one 2×2 matrix first (gates on
    other wires commute with them), applied when a multi-qubit gate touches the wire or at the
    end: one pass over the state instead of several.
    """
    _check_angles(circuit, angles_R)
    dtype = jnp.complex128 if jnp.asarray(angles_R).dtype == jnp.float64 else jnp.complex64
    state = sv.zero_state(circuit.num_qubits, dtype)
    pending = {}  # wire -> the product of its one-qubit gates not yet applied

    def flush(state, wires):
        for w in wires:
            if w in pending:
                state = sv._apply_one_qubit(state, pending.pop(w), w)
        return state

    for kind, value, wires in _gates(circuit, angles_R):
        if len(wires) == 1:
            (w,) = wires
            m = jnp.diag(value) if kind == "diagonal" else jnp.asarray(value)
            m = m.astype(dtype)
            pending[w] = m @ pending[w] if w in pending else m
            continue
        state = flush(state, wires)
        if kind == "cnot":
            state = sv._apply_cnot(state, *wires)
        elif kind == "diagonal":
            state = sv._apply_diagonal(state, value, wires)
        else:
            state = sv._apply_matrix(state, value, wires)
    return flush(state, sorted(pending))


def evolve_density(circuit: Circuit, angles_R, noise: NoiseModel | None = None):
    """ρ after every gate U ρ U† and the noise model's channel on its wires: `(2,) * 2n`."""
    _check_angles(circuit, angles_R)
    noise = noise or NoiseModel()
    n = circuit.num_qubits
    dtype = jnp.complex128 if jnp.asarray(angles_R).dtype == jnp.float64 else jnp.complex64
    rho = dm.zero_density(n, dtype)
    for kind, value, wires in _gates(circuit, angles_R):
        if kind == "cnot":
            rho = dm._apply_cnot(rho, *wires, n)
        elif kind == "diagonal":
            rho = dm._apply_diagonal(rho, value, wires, n)
        else:
            rho = dm._apply_matrix(rho, value, wires, n)
        rho = noise.after_gate(rho, wires, n)
    return rho


def simulate(circuit: Circuit, weights=None, inputs=None):
    """The final pure state of `circuit` for `weights` `[num_weights]`, `inputs` `[num_inputs]`."""
    return evolve_state(circuit, gate_angles(circuit, weights, inputs))


def simulate_density(circuit: Circuit, weights=None, inputs=None, noise: NoiseModel | None = None):
    """The final density matrix of `circuit` under `noise` (None: noiseless)."""
    return evolve_density(circuit, gate_angles(circuit, weights, inputs), noise)
