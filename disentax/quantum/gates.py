"""Gate matrices: the fixed gates (H, X, Y, Z, CNOT, CZ) and the rotations exp(−iθ/2 · P).

A k-qubit gate is a `[2^k, 2^k]` complex matrix in the basis |q_0 … q_{k−1}⟩ of its wires in the
order given (the first wire is the most significant bit). The rotations RX, RY, RZ and RZZ are
`exp(−iθ/2 · P)` with `P² = I` (P = X, Y, Z, Z⊗Z), so their expectations obey the two-term
parameter-shift rule (`disentax.quantum.gradients`).
"""

import jax
import jax.numpy as jnp
import numpy as np

from disentax.errors import UserError

H = np.array([[1, 1], [1, -1]], np.complex64) / np.sqrt(2)
X = np.array([[0, 1], [1, 0]], np.complex64)
Y = np.array([[0, -1j], [1j, 0]], np.complex64)
Z = np.array([[1, 0], [0, -1]], np.complex64)
CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], np.complex64)
CZ = np.diag(np.array([1, 1, 1, -1], np.complex64))

# The rotations' generators P of exp(−iθ/2 · P).
ROTATION_GENERATORS = {"rx": X, "ry": Y, "rz": Z, "rzz": np.kron(Z, Z)}


def _complex_dtype(theta):
    return jnp.complex128 if jnp.asarray(theta).dtype == jnp.float64 else jnp.complex64


@jax.jit
def rx(theta):
    """RX(θ) = exp(−iθX/2) = [[cos θ/2, −i sin θ/2], [−i sin θ/2, cos θ/2]]; θ scalar -> [2, 2]."""
    c, s = jnp.cos(theta / 2), jnp.sin(theta / 2)
    return jnp.stack([jnp.stack([c, -1j * s]), jnp.stack([-1j * s, c])]).astype(
        _complex_dtype(theta)
    )


@jax.jit
def ry(theta):
    """RY(θ) = exp(−iθY/2) = [[cos θ/2, −sin θ/2], [sin θ/2, cos θ/2]]; θ scalar -> [2, 2]."""
    c, s = jnp.cos(theta / 2), jnp.sin(theta / 2)
    return jnp.stack([jnp.stack([c, -s]), jnp.stack([s, c])]).astype(_complex_dtype(theta))


@jax.jit
def rz(theta):
    """RZ(θ) = exp(−iθZ/2) = diag(e^{−iθ/2}, e^{iθ/2}); θ scalar -> [2, 2]."""
    return jnp.diag(rz_diagonal(theta))


@jax.jit
def rz_diagonal(theta):
    """The diagonal of RZ(θ): (e^{−iθ/2}, e^{iθ/2}) -> [2]."""
    phase = jnp.exp(-0.5j * jnp.asarray(theta)).astype(_complex_dtype(theta))
    return jnp.stack([phase, jnp.conj(phase)])


@jax.jit
def rzz(theta):
    """RZZ(θ) = exp(−iθ Z⊗Z/2) = diag(e^{−iθ/2}, e^{iθ/2}, e^{iθ/2}, e^{−iθ/2}) -> [4, 4]."""
    return jnp.diag(rzz_diagonal(theta).reshape(4))


@jax.jit
def rzz_diagonal(theta):
    """The diagonal of RZZ(θ) as `[2, 2]`: entry (a, b) is e^{−iθ/2 · (−1)^{a+b}}."""
    d = rz_diagonal(theta)
    return jnp.stack([d, d[::-1]])


def check_unitary(matrix, num_wires: int, atol: float = 1e-5) -> np.ndarray:
    """`matrix` as a complex `[2^k, 2^k]` numpy array, after checking its shape and U†U = I.

    Raises a one-line `UserError` naming the shape or the distance from unitarity.
    """
    m = np.asarray(matrix)
    d = 2**num_wires
    if m.shape != (d, d):
        raise UserError(
            f"a gate on {num_wires} wire(s) needs a ({d}, {d}) matrix, got shape {m.shape}"
        )
    m = m.astype(np.complex128)
    error = float(np.max(np.abs(m.conj().T @ m - np.eye(d))))
    if not error <= atol:
        raise UserError(
            f"matrix is not unitary: max |U†U − I| = {error:.3g}, allowed up to {atol:g}"
        )
    return m
