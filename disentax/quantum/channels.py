"""Noise as on hardware: the depolarizing channel on density matrices, readout (bit-flip) error
on measured probabilities, and the `NoiseModel` that applies them after every gate.

Depolarizing on k qubits with probability p (PennyLane's / Nielsen & Chuang's convention):

    Δ_p(ρ) = (1 − p) ρ + p / (4^k − 1) · Σ_{P ≠ I} P ρ P       (P over the k-qubit Paulis)
           = (1 − λ) ρ + λ · I/2^k ⊗ Tr_wires ρ,                λ = 4^k p / (4^k − 1),

since Σ_{all P} P ρ P = 4^k · I/2^k ⊗ Tr_wires ρ. On one qubit ⟨Z⟩ -> (1 − 4p/3) ⟨Z⟩.

Readout error flips a measured 0 to 1 with probability p01 and 1 to 0 with p10, independently per
qubit: p'(b) = Σ_c Π_i C[b_i, c_i] p(c) with C = [[1 − p01, p10], [p01, 1 − p10]], so
⟨Z⟩' = (p10 − p01) + (1 − p01 − p10) ⟨Z⟩.
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp

from disentax.errors import UserError
from disentax.quantum import density as dm
from disentax.quantum import statevector as sv


def _check_probability(name: str, p) -> float:
    if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise UserError(f"{name} must be a probability in [0, 1], got {p!r}")
    return float(p)


def depolarize(rho, wires, p: float):
    """Δ_p on `wires` of ρ `(2,) * 2n` (the module docstring's equation)."""
    n = dm.num_qubits_of_density(rho)
    wires = sv.check_wires(wires, n)
    p = _check_probability("depolarizing p", p)
    return _depolarize(rho, wires, p, n)


def _depolarize(rho, wires, p, n):
    k = len(wires)
    lam = 4**k * p / (4**k - 1)
    return (1 - lam) * rho + lam * _maximally_mix(rho, wires, n)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _maximally_mix(rho, wires, n):
    """I/2^k ⊗ Tr_wires ρ: each wire's ket/bra pair traced out and replaced by I/2."""
    eye = jnp.eye(2, dtype=rho.dtype) / 2
    shape = rho.shape
    for w in wires:
        blocks = sv._blocks(shape, (w, w + n))  # (L, 2, M, 2, R): ket axis 1, bra axis 3
        x = jnp.reshape(rho, blocks)
        traced = x[:, 0, :, 0] + x[:, 1, :, 1]
        mixed = traced[:, None, :, None, :] * eye[None, :, None, :, None]
        rho = jnp.reshape(mixed, shape)
    return rho


def readout_error(probs, p01: float, p10: float):
    """p'(b) = Σ_c Π_i C[b_i, c_i] p(c), C = [[1 − p01, p10], [p01, 1 − p10]]: `(2,) * n`."""
    n = sv.num_qubits_of(probs)
    p01 = _check_probability("readout p01", p01)
    p10 = _check_probability("readout p10", p10)
    confusion = jnp.array([[1 - p01, p10], [p01, 1 - p10]], probs.dtype)
    for i in range(n):
        probs = sv._apply_one_qubit(probs, confusion, i)
    return probs


@dataclasses.dataclass(frozen=True)
class NoiseModel:
    """Depolarizing noise after every gate (p of `depolarizing_1q` on a one-qubit gate's wire,
    `depolarizing_2q` on the wires of a gate on two or more) and readout error at measurement.

    All zero is the noiseless density-matrix path (equal to the statevector path).
    """

    depolarizing_1q: float = 0.0
    depolarizing_2q: float = 0.0
    readout_p01: float = 0.0
    readout_p10: float = 0.0

    def __post_init__(self):
        for field in dataclasses.fields(self):
            _check_probability(field.name, getattr(self, field.name))

    def after_gate(self, rho, wires, n):
        """ρ after the depolarizing noise that follows a gate on `wires`."""
        p = self.depolarizing_1q if len(wires) == 1 else self.depolarizing_2q
        return _depolarize(rho, wires, p, n) if p else rho

    def measure(self, probs):
        """The measured probabilities: `probs` through the readout error."""
        if not (self.readout_p01 or self.readout_p10):
            return probs
        return readout_error(probs, self.readout_p01, self.readout_p10)
