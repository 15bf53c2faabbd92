"""A circuit as a differentiable function (weights, inputs) -> readout, its gradient taken either
by JAX autodiff through the simulation or by the parameter-shift rule, as hardware computes it.

Every rotation is exp(−iθ/2 · P) with P² = I, so any expectation f is a first-order trigonometric
polynomial in each gate angle θ_r and (Mitarai et al. 2018; Schuld et al. 2019)

    ∂f/∂θ_r = [ f(θ + (π/2) e_r) − f(θ − (π/2) e_r) ] / 2,

exactly, from 2R circuit evaluations and no access to the state. Probabilities are expectations
of projectors, so the rule holds for them too, with noise channels between the gates as well. The
classical map from (weights, inputs) to the gate angles (a gather; a weight may drive several
gates) is differentiated by JAX, as PennyLane does for classical processing around a QNode.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp

from disentax.errors import UserError
from disentax.quantum import density as dm
from disentax.quantum import measure
from disentax.quantum.channels import NoiseModel
from disentax.quantum.circuit import Circuit, evolve_density, evolve_state, gate_angles

READOUTS = ("expval_z", "probabilities")
GRADIENTS = ("autodiff", "parameter_shift")


def _choice(kind, value, allowed):
    if value not in allowed:
        raise UserError(f"unknown {kind} {value!r}; known: {', '.join(allowed)}")
    return value


def readout_from_probabilities(probs, readout: str):
    """`"expval_z"`: ⟨Z_i⟩ `[n]`; `"probabilities"`: p(b) flattened to `[2^n]` (qubit 0 first)."""
    _choice("readout", readout, READOUTS)
    if readout == "expval_z":
        return measure.expval_z_from_probabilities(probs)
    return jnp.reshape(probs, -1)


def measured_probabilities(circuit: Circuit, angles_R, noise: NoiseModel | None = None):
    """p(b) of the circuit for gate angles `[R]`: |ψ|² without noise, else diag ρ after readout
    error (`noise` given, even all zero, runs the density-matrix path)."""
    if noise is None:
        return measure.probabilities(evolve_state(circuit, angles_R))
    return noise.measure(dm.probabilities(evolve_density(circuit, angles_R, noise)))


def parameter_shift_jacobian(f: Callable, angles_R):
    """J[..., r] = [f(θ + π/2 e_r) − f(θ − π/2 e_r)] / 2 for f: `[R] -> [...]`; 2R evaluations,
    vmapped: `[...] + [R]`."""
    shifts = (jnp.pi / 2) * jnp.eye(angles_R.shape[0], dtype=angles_R.dtype)
    plus = jax.vmap(f)(angles_R + shifts)
    minus = jax.vmap(f)(angles_R - shifts)
    return jnp.moveaxis((plus - minus) / 2, 0, -1)


def _with_parameter_shift(f: Callable) -> Callable:
    """f with its reverse-mode derivative replaced by the parameter-shift Jacobian."""

    @jax.custom_vjp
    def shifted(angles_R):
        return f(angles_R)

    def forward(angles_R):
        return f(angles_R), angles_R

    def backward(angles_R, cotangent):
        jacobian = parameter_shift_jacobian(f, angles_R)
        return (jnp.tensordot(cotangent, jacobian, axes=cotangent.ndim),)

    shifted.defvjp(forward, backward)
    return shifted


def circuit_function(
    circuit: Circuit,
    readout: str = "expval_z",
    *,
    gradient: str = "autodiff",
    noise: NoiseModel | None = None,
) -> Callable:
    """`f(weights, inputs) -> readout` for one sample (vmap it over a batch, jit it).

    `readout`: `"expval_z"` (⟨Z_i⟩, `[n]`) or `"probabilities"` (`[2^n]`). `gradient`:
    `"autodiff"` (reverse mode through the simulation) or `"parameter_shift"` (the rule in the
    module docstring, 2R evaluations per gradient; a `custom_vjp`, so reverse mode only:
    `jax.grad`, `jax.vjp`, `jax.jacrev`). `noise`: a `NoiseModel` runs the
    density-matrix path; None the statevector.
    """
    _choice("readout", readout, READOUTS)
    _choice("gradient", gradient, GRADIENTS)

    def quantum(angles_R):
        return readout_from_probabilities(measured_probabilities(circuit, angles_R, noise), readout)

    if gradient == "parameter_shift":
        quantum = _with_parameter_shift(quantum)

    def f(weights=None, inputs=None):
        return quantum(gate_angles(circuit, weights, inputs))

    return f
