"""The density-matrix path: equal to the statevector path without noise; the depolarizing and
readout-error channels against their closed forms and their Pauli-sum definitions."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from quantum_cases import PAULI, dense_operator, random_circuit

from disentax import quantum as q
from disentax.quantum import density as dm


def random_density(rng, n):
    a = rng.normal(size=(2**n, 2**n)) + 1j * rng.normal(size=(2**n, 2**n))
    rho = a @ a.conj().T
    return rho / np.trace(rho)


@pytest.mark.parametrize("seed", range(1))
def test_noiseless_density_path_equals_statevector_path(seed):
    rng = np.random.default_rng(seed)
    c = random_circuit(rng, n=3, num_gates=20)
    w = jnp.asarray(rng.uniform(-np.pi, np.pi, 4), jnp.float32)
    x = jnp.asarray(rng.uniform(-np.pi, np.pi, 2), jnp.float32)
    state = q.simulate(c, w, x)
    rho = q.simulate_density(c, w, x, q.NoiseModel())
    np.testing.assert_allclose(rho, q.density_matrix(state), atol=2e-6)
    # The readout of the noiseless density path (`noise` given) equals the statevector's.
    exact = q.circuit_function(c, "probabilities")(w, x)
    noiseless = q.circuit_function(c, "probabilities", noise=q.NoiseModel())(w, x)
    np.testing.assert_allclose(noiseless, exact, atol=2e-6)


def test_depolarizing_scales_z_in_closed_form():
    """One qubit: ⟨Z⟩ -> (1 − 4p/3)⟨Z⟩; two qubits: ⟨Z_i⟩ -> (1 − 16p/15)⟨Z_i⟩."""
    t = 0.6
    for p in (0.0, 0.05, 0.3, 0.75):
        one = q.circuit_function(q.Circuit(1).ry(0, t), noise=q.NoiseModel(depolarizing_1q=p))
        np.testing.assert_allclose(one()[0], (1 - 4 * p / 3) * np.cos(t), atol=1e-6)
        # RY(t) on qubit 0 (noise-free), then a CNOT followed by two-qubit depolarizing.
        noise = q.NoiseModel(depolarizing_2q=p)
        two = q.circuit_function(q.Circuit(2).ry(0, t).cnot(0, 1), noise=noise)
        np.testing.assert_allclose(two(), (1 - 16 * p / 15) * np.cos(t) * np.ones(2), atol=1e-6)


def test_gate_noise_compounds_per_gate():
    """k noisy RZ gates (commuting with Z) after an ideal preparation: ⟨Z⟩ · (1 − 4p/3)^k."""
    p, k, t = 0.02, 5, 0.9
    c = q.Circuit(1).ry(0, t)
    for _ in range(k):
        c = c.rz(0, 0.1)
    f = q.circuit_function(c, noise=q.NoiseModel(depolarizing_1q=p))
    np.testing.assert_allclose(f()[0], np.cos(t) * (1 - 4 * p / 3) ** (k + 1), atol=1e-6)


@pytest.mark.parametrize("wires", [(1,), (2, 0)])
def test_depolarize_equals_pauli_sum_definition(wires):
    n, p = 3, 0.2
    rng = np.random.default_rng(len(wires))
    rho = random_density(rng, n)
    k = len(wires)
    expected = (1 - p) * rho
    for paulis in itertools.product("IXYZ", repeat=k):
        if set(paulis) == {"I"}:
            continue
        op = PAULI[paulis[0]]
        for name in paulis[1:]:
            op = np.kron(op, PAULI[name])
        full = dense_operator(op, wires, n)
        expected = expected + p / (4**k - 1) * full @ rho @ full.conj().T
    ours = q.depolarize(jnp.asarray(rho.reshape((2,) * 2 * n), jnp.complex64), wires, p)
    np.testing.assert_allclose(np.asarray(ours).reshape(2**n, 2**n), expected, atol=1e-6)
    np.testing.assert_allclose(float(jnp.real(dm.trace(ours))), 1.0, atol=1e-6)


def test_readout_error_closed_form():
    """⟨Z⟩' = (p10 − p01) + (1 − p01 − p10)⟨Z⟩; p'(b) from the confusion matrix."""
    thetas = np.array([0.4, 2.0])
    c = q.Circuit(2).ry(0, float(thetas[0])).ry(1, float(thetas[1]))
    p01, p10 = 0.03, 0.08
    noise = q.NoiseModel(readout_p01=p01, readout_p10=p10)
    z = q.circuit_function(c, noise=noise)()
    np.testing.assert_allclose(z, (p10 - p01) + (1 - p01 - p10) * np.cos(thetas), atol=1e-6)
    probs = q.circuit_function(c, "probabilities", noise=noise)()
    ideal = np.asarray(q.probabilities(q.simulate(c))).reshape(-1)
    confusion = np.array([[1 - p01, p10], [p01, 1 - p10]])
    np.testing.assert_allclose(probs, np.kron(confusion, confusion) @ ideal, atol=1e-6)
    np.testing.assert_allclose(float(jnp.sum(probs)), 1.0, atol=1e-6)


def test_ten_qubits_fit_and_stay_a_state():
    n = 10
    c = q.Circuit(n).h(0).cnot(0, n - 1).rzz(3, 7, 0.3)  # a Bell pair of qubits 0 and 9
    p = 0.03
    rho = jax.jit(lambda: q.simulate_density(c, noise=q.NoiseModel(depolarizing_2q=p)))()
    assert rho.shape == (2,) * 20 and rho.dtype == jnp.complex64
    np.testing.assert_allclose(float(jnp.real(dm.trace(rho))), 1.0, atol=1e-5)
    # Two-qubit depolarizing (λ = 16p/15) after the CNOT leaves (1 − λ) Bell + λ I/4 on (0, 9),
    # and after RZZ (1 − λ) |00⟩⟨00| + λ I/4 on (3, 7).
    lam = 16 * p / 15
    expected = ((1 - lam) / 2 + lam / 4) * (1 - 3 * lam / 4)
    probs = np.asarray(dm.probabilities(rho))
    np.testing.assert_allclose(probs[(0,) * n], expected, atol=1e-5)
    np.testing.assert_allclose(probs[(1,) + (0,) * (n - 2) + (1,)], expected, atol=1e-5)
    np.testing.assert_allclose(probs.sum(), 1.0, atol=1e-5)
