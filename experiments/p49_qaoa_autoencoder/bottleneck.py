"""The bottleneck circuits: n latent features angle-encoded as R_y(z_i)|0⟩ on n qubits, p layers
of a trainable ansatz, then ⟨Z_i⟩ (the library's simulator, `disentax.quantum`). Every ansatz has
two trainable angles per layer, shared by its gates (so 2p in all), as QAOA's γ_k, β_k:

- "qaoa" (the paper's): layer k = exp(−iγ_k/2 Σ_i Z_i Z_{i+1}) (RZZ(γ_k) on the ring's n
  neighbouring pairs, i+1 mod n), then exp(−iβ_k/2 Σ_i X_i) (RX(β_k) on every qubit);
- "hea" (hardware-efficient): layer k = [RY(γ_k) on every qubit, CNOT ring], [RY(β_k) on every
  qubit, CNOT ring] (two RY + CNOT sublayers, so the two angles never merge);
- "none" (no entanglement): QAOA with its ZZ cost replaced by local fields: RZ(γ_k) on every
  qubit, then RX(β_k) on every qubit; the state stays a product state.

The RZZ(γ) = exp(−iγ/2 ZZ) convention is the library's (QAOA's γ is half of it). Closed forms
(tested): with γ = 0 the QAOA gives ⟨Z_i⟩ = cos(Σ_k β_k) cos z_i; one unentangled layer gives
cos β cos z + sin β sin γ sin z.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from disentax import quantum
from disentax.errors import UserError

ANSATZE = ("qaoa", "hea", "none")
GRADIENTS = ("autodiff", "parameter_shift")
ANGLES_PER_LAYER = 2


def _ring(n: int) -> list[tuple[int, int]]:
    """Neighbouring pairs (i, i+1 mod n); for n = 2 the one pair."""
    return [(i, (i + 1) % n) for i in range(n if n > 2 else 1)]


@functools.cache
def bottleneck_circuit(num_qubits: int, ansatz: str, depth: int) -> quantum.Circuit:
    """R_y(Input(i)) on qubit i, then `depth` layers of `ansatz` (module docstring), layer k's
    angles `Weight(2k)` (γ_k) and `Weight(2k + 1)` (β_k)."""
    if ansatz not in ANSATZE:
        raise UserError(f"unknown ansatz {ansatz!r}; known: {', '.join(ANSATZE)}")
    if num_qubits < 2 or depth < 0:
        raise UserError(f"a bottleneck needs >= 2 qubits and depth >= 0, got {num_qubits}, {depth}")
    n = num_qubits
    c = quantum.Circuit(n)
    for i in range(n):
        c = c.ry(i, quantum.Input(i))
    for k in range(depth):
        gamma, beta = quantum.Weight(2 * k), quantum.Weight(2 * k + 1)
        if ansatz == "qaoa":
            for a, b in _ring(n):
                c = c.rzz(a, b, gamma)
            for i in range(n):
                c = c.rx(i, beta)
        elif ansatz == "hea":
            for angle in (gamma, beta):
                for i in range(n):
                    c = c.ry(i, angle)
                for a, b in _ring(n):
                    c = c.cnot(a, b)
        else:
            for i in range(n):
                c = c.rz(i, gamma)
            for i in range(n):
                c = c.rx(i, beta)
    return c


def small_angles(key, shape, dtype=jnp.float32):
    """Initial γ, β uniform in [−π/4, π/4]: near the identity, the usual QAOA start."""
    return jax.random.uniform(key, shape, dtype, -jnp.pi / 4, jnp.pi / 4)


class QuantumBottleneck(nn.Module):
    """z `[B, n]` -> ⟨Z_i⟩ `[B, n]` of `bottleneck_circuit(n, ansatz, depth)` with trainable
    angles `weights` `[2·depth]` (a `quantum.CircuitLayer`, vmapped over the batch); `gradient`:
    "autodiff" or "parameter_shift" (equal to 1e-6, tested; autodiff is the faster)."""

    num_qubits: int
    ansatz: str = "qaoa"
    depth: int = 1
    gradient: str = "autodiff"

    @nn.compact
    def __call__(self, z):
        circuit = bottleneck_circuit(self.num_qubits, self.ansatz, self.depth)
        if self.depth == 0:  # no weights: the encoding alone
            f = quantum.circuit_function(circuit, gradient=self.gradient)
            return jax.vmap(lambda x: f(None, x))(z)
        return quantum.CircuitLayer(
            circuit, gradient=self.gradient, weight_init=small_angles, name="circuit"
        )(z)
