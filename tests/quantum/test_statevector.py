"""States and gates: Bell and GHZ amplitudes, closed-form rotations, agreement with a dense
reference, and unitarity (the norm) through 100 random gates."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from quantum_cases import dense_operator, dense_state, random_circuit, random_unitary

from disentax import quantum as q


def flat(state):
    return np.asarray(state).reshape(-1)


def test_bell_state_amplitudes():
    state = q.simulate(q.Circuit(2).h(0).cnot(0, 1))
    assert state.shape == (2, 2)
    np.testing.assert_allclose(flat(state), [2**-0.5, 0, 0, 2**-0.5], atol=1e-7)


@pytest.mark.parametrize("n", [4])
def test_ghz_state_amplitudes(n):
    c = q.Circuit(n).h(0)
    for i in range(n - 1):
        c = c.cnot(i, i + 1)
    amplitudes = flat(q.simulate(c))
    expected = np.zeros(2**n)
    expected[0] = expected[-1] = 2**-0.5
    np.testing.assert_allclose(amplitudes, expected, atol=1e-7)
    np.testing.assert_allclose(q.expval_z(q.simulate(c)), np.zeros(n), atol=1e-7)


def test_basis_order_qubit_zero_is_most_significant():
    state = q.simulate(q.Circuit(3).x(0))  # |100⟩ = index 4
    assert flat(state)[4] == 1
    np.testing.assert_array_equal(q.basis_state([1, 0, 0]), state)


THETAS = np.linspace(-3.0, 3.0, 7)


@pytest.mark.parametrize(
    "build, expected_z",
    [
        (lambda t: q.Circuit(1).ry(0, t), np.cos),  # ⟨Z⟩ after RY(θ)|0⟩ = cos θ
        (lambda t: q.Circuit(1).rx(0, t), np.cos),  # ⟨Z⟩ after RX(θ)|0⟩ = cos θ
        (lambda t: q.Circuit(1).rz(0, t), np.ones_like),  # RZ|0⟩ is a phase: ⟨Z⟩ = 1
        (lambda t: q.Circuit(1).h(0).rz(0, t).h(0), np.cos),  # ⟨X⟩ after RZ(θ)|+⟩ = cos θ
        (lambda t: q.Circuit(1).ry(0, t).x(0), lambda t: -np.cos(t)),
    ],
)
def test_single_qubit_rotation_closed_forms(build, expected_z):
    z = [float(q.expval_z(q.simulate(build(float(t))))[0]) for t in THETAS]
    np.testing.assert_allclose(z, expected_z(THETAS), atol=1e-6)


def test_rotation_amplitudes_closed_form():
    t = 0.7
    np.testing.assert_allclose(
        flat(q.simulate(q.Circuit(1).ry(0, t))), [np.cos(t / 2), np.sin(t / 2)], atol=1e-7
    )
    np.testing.assert_allclose(
        flat(q.simulate(q.Circuit(1).rx(0, t))), [np.cos(t / 2), -1j * np.sin(t / 2)], atol=1e-7
    )
    # RZZ(θ) on |++⟩: amplitudes e^{∓iθ/2}/2 with the sign of (−1)^{a+b}.
    amps = flat(q.simulate(q.Circuit(2).h(0).h(1).rzz(0, 1, t)))
    phase = np.exp(-0.5j * t)
    np.testing.assert_allclose(amps, [phase / 2, phase.conj() / 2, phase.conj() / 2, phase / 2])


def test_two_qubit_correlation_closed_form():
    """RY(θ) on qubit 0 then CNOT(0, 1): ⟨Z_0⟩ = ⟨Z_1⟩ = cos θ."""
    for t in THETAS:
        z = q.expval_z(q.simulate(q.Circuit(2).ry(0, float(t)).cnot(0, 1)))
        np.testing.assert_allclose(z, [np.cos(t), np.cos(t)], atol=1e-6)


@pytest.mark.parametrize("wires", [(0,), (2,), (0, 2), (3, 1), (2, 0, 3)])
def test_apply_gate_matches_dense_operator(wires):
    rng = np.random.default_rng(len(wires) * 10 + wires[0])
    n = 4
    psi = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    u = random_unitary(rng, 2 ** len(wires))
    ours = q.apply_gate(jnp.asarray(psi.reshape((2,) * n), jnp.complex64), u, wires)
    np.testing.assert_allclose(flat(ours), dense_operator(u, wires, n) @ psi, atol=1e-5)


def test_cnot_and_diagonal_kernels_match_dense_operator():
    rng = np.random.default_rng(1)
    n = 4
    psi = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    state = jnp.asarray(psi.reshape((2,) * n), jnp.complex64)
    cnot = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
    for control, target in [(0, 1), (3, 0), (1, 3)]:
        dense = dense_operator(cnot, (control, target), n) @ psi
        np.testing.assert_allclose(flat(q.apply_cnot(state, control, target)), dense, atol=1e-6)
    diagonal = np.exp(1j * rng.uniform(size=4))
    dense = dense_operator(np.diag(diagonal), (3, 1), n) @ psi
    np.testing.assert_allclose(flat(q.apply_diagonal(state, diagonal, (3, 1))), dense, atol=1e-6)


@pytest.mark.parametrize("seed", range(2))
def test_random_circuits_match_dense_reference(seed):
    rng = np.random.default_rng(seed)
    c = random_circuit(rng, n=3 + seed % 2, num_gates=25)
    weights, inputs = rng.uniform(-np.pi, np.pi, 4), rng.uniform(-np.pi, np.pi, 2)
    ours = q.simulate(c, jnp.asarray(weights, jnp.float32), jnp.asarray(inputs, jnp.float32))
    np.testing.assert_allclose(flat(ours), dense_state(c, weights, inputs), atol=2e-6)


def _hundred_random_gates(seed, dtype):
    rng = np.random.default_rng(seed)
    c = random_circuit(rng, n=4, num_gates=100 - 6, num_weights=4, num_inputs=2, unitaries=False)
    assert len(c.ops) == 100
    # Eagerly: each kernel compiles once per (shape, wires), cheaper here than one 100-gate jit.
    w = jnp.asarray(rng.uniform(-np.pi, np.pi, 4), dtype)
    x = jnp.asarray(rng.uniform(-np.pi, np.pi, 2), dtype)
    return q.norm(q.simulate(c, w, x))


def test_norm_kept_through_100_random_gates():
    """In complex128; in the default complex64 the drift is float32 rounding (about 1e-6)."""
    with jax.enable_x64(True):
        norm = _hundred_random_gates(0, jnp.float64)
        assert norm.dtype == jnp.float64
        assert abs(float(norm) - 1.0) < 1e-6
