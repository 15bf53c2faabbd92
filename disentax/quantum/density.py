"""Mixed states: density matrices ρ as `(2,) * 2n` arrays (n ket axes, then n bra axes).

ρ[a_0 … a_{n−1}, b_0 … b_{n−1}] = ⟨a|ρ|b⟩. A gate maps ρ -> U ρ U†: U contracted with the ket
axes of its wires and U* with their bra axes (`statevector`'s kernels on both). 10 qubits are
4^10 = 1,048,576 complex entries (8 MiB in complex64).
"""

import jax.numpy as jnp

from disentax.errors import UserError
from disentax.quantum import statevector as sv


def num_qubits_of_density(rho) -> int:
    """n for ρ of shape `(2,) * 2n`; a one-line `UserError` for any other shape."""
    shape = tuple(jnp.shape(rho))
    if not shape or len(shape) % 2 or any(d != 2 for d in shape):
        raise UserError(
            f"a density matrix must have shape (2,) * 2n (n ket axes, then n bra axes), got "
            f"shape {shape}"
        )
    return len(shape) // 2


def density_matrix(state):
    """ρ = |ψ⟩⟨ψ|: `(2,) * n -> (2,) * 2n`."""
    sv.num_qubits_of(state)
    return jnp.tensordot(state, jnp.conj(state), axes=0)


def zero_density(num_qubits: int, dtype=jnp.complex64):
    """|0…0⟩⟨0…0|."""
    return density_matrix(sv.zero_state(num_qubits, dtype))


def trace(rho):
    """Tr ρ = Σ_a ρ[a, a] (1 for a state)."""
    n = num_qubits_of_density(rho)
    return jnp.trace(jnp.reshape(rho, (2**n, 2**n)))


def apply_gate(rho, matrix, wires):
    """U ρ U† for a k-qubit gate `[2^k, 2^k]` on `wires`."""
    n = num_qubits_of_density(rho)
    wires = sv.check_wires(wires, n)
    d = 2 ** len(wires)
    if jnp.shape(matrix) != (d, d):
        raise UserError(
            f"a gate on {len(wires)} wire(s) needs a ({d}, {d}) matrix, got shape "
            f"{tuple(jnp.shape(matrix))}"
        )
    return _apply_matrix(rho, matrix, wires, n)


def _apply_matrix(rho, matrix, wires, n):
    bra = tuple(w + n for w in wires)
    if len(wires) == 1:
        rho = sv._apply_one_qubit(rho, matrix, wires[0])
        return sv._apply_one_qubit(rho, jnp.conj(matrix), bra[0])
    rho = sv._apply_matrix(rho, matrix, wires)
    return sv._apply_matrix(rho, jnp.conj(matrix), bra)


def _apply_diagonal(rho, diagonal, wires, n):
    """D ρ D†: ρ[a, b] · d(a) · d(b)*."""
    rho = sv._apply_diagonal(rho, diagonal, wires)
    return sv._apply_diagonal(rho, jnp.conj(diagonal), tuple(w + n for w in wires))


def _apply_cnot(rho, control, target, n):
    """CNOT ρ CNOT (CNOT is real and its own inverse)."""
    rho = sv._apply_cnot(rho, control, target)
    return sv._apply_cnot(rho, control + n, target + n)


def probabilities(rho):
    """p(b) = ⟨b|ρ|b⟩ (the diagonal, real part): `(2,) * 2n -> (2,) * n`."""
    n = num_qubits_of_density(rho)
    diagonal = jnp.diagonal(jnp.reshape(rho, (2**n, 2**n)))
    return jnp.reshape(jnp.real(diagonal), (2,) * n)
