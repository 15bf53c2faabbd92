"""Parameter-shift gradients equal JAX autodiff (to 1e-6 in float64) on random circuits, for
⟨Z_i⟩ and probabilities, with and without noise, for weights and inputs alike."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from quantum_cases import random_circuit

from disentax import quantum as q


def gradients(circuit, noise, w, x, cotangents, readouts):
    """∂/∂(w, x) of Σ_o c_o f_o over `readouts`, by autodiff and by parameter shift (one jit)."""

    def grad(mode):
        fs = [
            q.circuit_function(circuit, readout, gradient=mode, noise=noise) for readout in readouts
        ]

        def loss(w, x):
            return sum(jnp.vdot(c, f(w, x)) for c, f in zip(cotangents, fs, strict=True))

        return jax.grad(loss, argnums=(0, 1))(w, x)

    return jax.jit(lambda: {mode: grad(mode) for mode in q.gradients.GRADIENTS})()


@pytest.mark.parametrize(
    "seed, noise",
    [(0, None), (2, q.NoiseModel(0.01, 0.03, 0.02, 0.05))],
)
def test_parameter_shift_equals_autodiff(seed, noise):
    rng = np.random.default_rng(seed)
    n = 3 if noise is None else 2
    if noise is None:
        circuit = random_circuit(rng, n, num_gates=8)
    else:
        circuit = random_circuit(rng, n, num_gates=4, num_weights=2, num_inputs=1)
    with jax.enable_x64(True):
        w = jnp.asarray(rng.uniform(-np.pi, np.pi, circuit.num_weights))
        x = jnp.asarray(rng.uniform(-np.pi, np.pi, circuit.num_inputs))
        cotangents = [jnp.asarray(rng.normal(size=2**n)), jnp.asarray(rng.normal(size=n))]
        # With noise, probabilities only (⟨Z_i⟩ are linear in them): half the compilation.
        readouts = ("probabilities",) if noise else ("probabilities", "expval_z")
        grads = gradients(circuit, noise, w, x, cotangents[: len(readouts)], readouts)
        assert grads["autodiff"][0].dtype == jnp.float64
    for ad, ps in zip(grads["autodiff"], grads["parameter_shift"], strict=True):
        np.testing.assert_allclose(ps, ad, atol=1e-6, rtol=0)
    assert np.max(np.abs(grads["autodiff"][0])) > 1e-2  # not trivially zero


def test_parameter_shift_jacobian_of_ry_is_minus_sine():
    """∂⟨Z⟩/∂θ after RY(θ) = −sin θ, from f(θ ± π/2) alone."""
    f = q.circuit_function(q.Circuit(1).ry(0, q.Weight(0)))
    thetas = jnp.linspace(-3, 3, 7)
    jac = jax.vmap(lambda t: q.parameter_shift_jacobian(lambda a: f(a), t[None]))(thetas)
    np.testing.assert_allclose(jac[:, 0, 0], -np.sin(thetas), atol=1e-6)


def test_parameter_shift_costs_two_evaluations_per_rotation():
    calls = []
    c = q.Circuit(2).ry(0, q.Weight(0)).cnot(0, 1).rx(1, q.Weight(1)).rz(0, 0.3)

    def f(angles):
        calls.append(angles.shape)
        return q.gradients.readout_from_probabilities(
            q.gradients.measured_probabilities(c, angles), "expval_z"
        )

    q.parameter_shift_jacobian(f, jnp.zeros(3))
    # One vmapped call for the + shifts and one for the − shifts, each over the 3 rotations.
    assert calls == [(3,), (3,)]
