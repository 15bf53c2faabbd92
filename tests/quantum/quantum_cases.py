"""Shared by the quantum tests: a dense-matrix reference simulator (2^n × 2^n operators built
entry by entry, rotations by scipy's expm) and random circuits that use every gate kind."""

import numpy as np
from scipy.linalg import expm

from disentax.quantum import Circuit, Input, Weight

PAULI = {
    "I": np.eye(2),
    "X": np.array([[0, 1], [1, 0]]),
    "Y": np.array([[0, -1j], [1j, 0]]),
    "Z": np.diag([1.0, -1.0]),
}
FIXED = {
    "h": np.array([[1, 1], [1, -1]]) / np.sqrt(2),
    "x": PAULI["X"],
    "y": PAULI["Y"],
    "z": PAULI["Z"],
    "cnot": np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]),
    "cz": np.diag([1.0, 1, 1, -1]),
}
GENERATORS = {
    "rx": PAULI["X"],
    "ry": PAULI["Y"],
    "rz": PAULI["Z"],
    "rzz": np.kron(PAULI["Z"], PAULI["Z"]),
}


def bits_of(index, n):
    return [(index >> (n - 1 - i)) & 1 for i in range(n)]


def dense_operator(matrix, wires, n):
    """The 2^n × 2^n operator of `matrix` on `wires`, entry by entry (qubit 0 most significant)."""
    full = np.zeros((2**n, 2**n), complex)
    rest = [i for i in range(n) if i not in wires]
    for a in range(2**n):
        for b in range(2**n):
            ab, bb = bits_of(a, n), bits_of(b, n)
            if all(ab[i] == bb[i] for i in rest):
                row = int("".join(str(ab[w]) for w in wires), 2)
                col = int("".join(str(bb[w]) for w in wires), 2)
                full[a, b] = matrix[row, col]
    return full


def angle_value(angle, weights, inputs):
    if isinstance(angle, Input):
        return inputs[angle.index]
    if isinstance(angle, Weight):
        return weights[angle.index]
    return angle


def dense_unitary(circuit, weights, inputs):
    """The circuit's whole unitary, gate by gate, as a 2^n × 2^n matrix."""
    n = circuit.num_qubits
    u = np.eye(2**n, dtype=complex)
    for op in circuit.ops:
        if op.name in GENERATORS:
            theta = angle_value(op.angle, weights, inputs)
            m = expm(-0.5j * theta * GENERATORS[op.name])
        elif op.name == "unitary":
            m = np.asarray(op.matrix)
        else:
            m = FIXED[op.name]
        u = dense_operator(m, op.wires, n) @ u
    return u


def dense_state(circuit, weights=None, inputs=None):
    """U |0…0⟩ as a flat 2^n vector."""
    return dense_unitary(circuit, weights, inputs)[:, 0]


def random_unitary(rng, dim):
    q, r = np.linalg.qr(rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim)))
    return q * (np.diag(r) / np.abs(np.diag(r)))


def random_circuit(rng, n, num_gates, num_weights=4, num_inputs=2, unitaries=True):
    """A random circuit over every gate kind; rotation angles from Weight, Input or a constant."""
    kinds = ["h", "x", "y", "z", "rx", "ry", "rz", "cnot", "cz", "rzz"]
    if unitaries:
        kinds.append("unitary")
    c = Circuit(n)
    # Every weight and input is used at least once, so the vectors have the declared lengths.
    for i in range(num_weights):
        c = c.ry(i % n, Weight(i))
    for i in range(num_inputs):
        c = c.rx(i % n, Input(i))
    for _ in range(num_gates):
        kind = kinds[rng.integers(len(kinds))]
        a, b = (int(w) for w in rng.choice(n, 2, replace=False))
        source = rng.integers(3)
        if source == 0:
            angle = Weight(int(rng.integers(num_weights)))
        elif source == 1:
            angle = Input(int(rng.integers(num_inputs)))
        else:
            angle = float(rng.uniform(-np.pi, np.pi))
        if kind in ("rx", "ry", "rz"):
            c = getattr(c, kind)(a, angle)
        elif kind == "rzz":
            c = c.rzz(a, b, angle)
        elif kind in ("cnot", "cz"):
            c = getattr(c, kind)(a, b)
        elif kind == "unitary":
            k = 1 + int(rng.integers(2))
            c = c.unitary(random_unitary(rng, 2**k), (a, b)[:k])
        else:
            c = getattr(c, kind)(a)
    return c
