"""P57's mechanism in closed forms and against the library's reference paths: the encoding's
one-qubit ⟨Z⟩, the scanned classifier equal to `quantum.simulate` of the paper's circuit, its
parameter-shift gradient equal to `jax.grad`, the attacks (FGSM at ε = 0 the identity, its first
order gain ε‖∇‖₁, PGD inside the ball), the Ising ground states (exact eigenvalue, the two-spin
closed form), the noisy density path (zero noise = statevector, equal to the library's
gate-by-gate `simulate_density`); the config and its bad inputs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax import config as config_lib
from disentax import quantum
from disentax.errors import UserError
from disentax.quantum import density
from experiments.p57_quantum_adversarial import config, task


def test_the_encoding_triple_gives_the_closed_form_z_on_one_qubit():
    # RX(c)·RZ(b)·RX(a)|0⟩: Bloch (0, 0, 1) -> (0, −sin a, cos a) -> (sin a sin b, −sin a cos b,
    # cos a) -> ⟨Z⟩ = cos a cos c − sin a cos b sin c
    for a, b, c in np.random.RandomState(0).uniform(-4, 4, (5, 3)):
        state = task.classifier_state(jnp.zeros(3), jnp.asarray([a, b, c], jnp.float32), 1)
        want = np.cos(a) * np.cos(c) - np.sin(a) * np.cos(b) * np.sin(c)
        assert float(quantum.expval_z(state)[0]) == pytest.approx(want, abs=1e-5)


def test_the_scanned_classifier_is_the_papers_circuit_on_the_library_simulator():
    n, blocks = 4, 2
    circuit = task.classifier_circuit(n, blocks)
    ops = [op.name for op in circuit.ops]
    assert ops == (["rx", "rz", "rx"] * 2 * n + ["cnot"] * (n - 1)) * blocks
    assert circuit.num_inputs == circuit.num_weights == 3 * n * blocks
    rng = np.random.RandomState(1)
    with jax.enable_x64(True):
        w, phi = (jnp.asarray(rng.uniform(0, 2 * np.pi, 3 * n * blocks)) for _ in range(2))
        np.testing.assert_allclose(
            task.classifier_state(w, phi, n), quantum.simulate(circuit, w, phi), atol=1e-12
        )
        # the quantum-data classifier on a prepared (non-basis) input state
        prep = quantum.Circuit(n).h(0).ry(1, 0.7).cnot(0, 2).x(3)
        delta, weights = jnp.asarray(rng.randn(3 * n)), jnp.asarray(rng.randn(3 * n * 2))
        whole = quantum.Circuit(n, prep.ops + task.state_circuit(n, 2).ops)
        want = quantum.simulate(whole, weights, delta)
        start = quantum.evolve_state(prep, jnp.asarray([0.7]))  # complex128, as `whole`
        got = task.ising_classifier_state(weights, delta, start)
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_the_parameter_shift_gradient_equals_jax_grad():
    n, blocks, readout = 3, 2, 1
    circuit = task.classifier_circuit(n, blocks)
    shifted = quantum.circuit_function(circuit, gradient="parameter_shift")
    rng = np.random.RandomState(2)
    with jax.enable_x64(True):
        w, phi = (jnp.asarray(rng.uniform(0, 2 * np.pi, 3 * n * blocks)) for _ in range(2))
        hardware = jax.jit(jax.grad(lambda w: (1 - shifted(w, phi)[readout]) / 2))(w)
        simulated = jax.jit(
            jax.grad(
                lambda w: (1 - quantum.expval_z(task.classifier_state(w, phi, n))[readout]) / 2
            )
        )(w)
        np.testing.assert_allclose(hardware, simulated, atol=1e-6)
        assert float(jnp.abs(simulated).max()) > 1e-2


@pytest.fixture(scope="module")
def smoke_digits():
    """A smoke digits task (4 qubits, 6 blocks, adversarially trained) and random weights."""
    c = config.get_config("adversarial,smoke")
    run = task.build(c)
    weights = jax.random.uniform(jax.random.PRNGKey(3), (task.num_weights(c),), maxval=6.0)
    return c, run, weights


def test_fgsm_at_zero_is_the_identity_and_gains_eps_times_the_l1_gradient(smoke_digits):
    c, run, weights = smoke_digits
    eps = 1e-4
    prob = task.prob_one_fn(c)

    @jax.jit
    def parts(weights, x, y):
        loss = task.Loss(prob, weights, c.data.pixels)
        zero = jnp.zeros_like(x)
        grad = jax.grad(lambda d: jnp.sum(loss(x, y, d)))(zero)
        gain = loss(x, y, task.attack(loss, x, y, eps, "fgsm", 1)) - loss(x, y, zero)
        return task.attack(loss, x, y, 0.0, "fgsm", 1), grad, gain

    with jax.enable_x64(True):
        x = jnp.asarray(run.arrays["x_test"][:6], jnp.float64)
        delta, grad, gain = parts(jnp.asarray(weights, jnp.float64), x, run.arrays["y_test"][:6])
        assert delta.shape == (6, 64) and not np.any(delta)
        np.testing.assert_allclose(gain, eps * jnp.abs(grad).sum(axis=1), rtol=1e-2)
        assert np.all(gain > 0)


def test_bim_and_pgd_stay_in_the_ball_and_raise_the_loss(smoke_digits):
    c, run, weights = smoke_digits
    prob = task.prob_one_fn(c)
    x, y = run.arrays["x_test"][:8], run.arrays["y_test"][:8]

    @jax.jit
    def attacked(weights):
        loss = task.Loss(prob, weights, c.data.pixels)
        clean = jnp.sum(loss(x, y, jnp.zeros((8, 64))))
        out = []
        for kind in ("bim", "pgd"):
            delta = task.attack(loss, x, y, 0.05, kind, 5, jax.random.PRNGKey(4))
            out.append((jnp.abs(delta).max(), jnp.sum(loss(x, y, delta))))
        return clean, out

    clean, out = attacked(weights)
    for radius, loss in out:
        assert float(radius) <= 0.05 + 1e-7
        assert float(loss) > float(clean)
    loss = task.Loss(prob, weights, c.data.pixels)
    with pytest.raises(UserError, match="unknown attack 'cw'; known: fgsm, bim, pgd"):
        task.attack(loss, x, y, 0.05, "cw", 5)


def test_the_ising_ground_state_is_the_exact_eigenvector_and_two_spins_have_a_closed_form():
    for n, h in ((6, 0.5), (6, 1.5), (8, 0.8)):
        energy, psi = task.ground_state(n, h)
        hamiltonian = task.ising_hamiltonian(n, h)
        assert energy == pytest.approx(np.linalg.eigvalsh(hamiltonian)[0], abs=1e-10)
        np.testing.assert_allclose(hamiltonian @ psi, energy * psi, atol=1e-8)
        assert np.linalg.norm(psi) == pytest.approx(1.0)
    for h in (0.3, 1.0, 2.0):  # {GHZ+, ψ+} block [[−J, −2h], [−2h, J]]
        assert task.ground_state(2, h)[0] == pytest.approx(-np.sqrt(1 + 4 * h**2), abs=1e-12)
    # the phases: the end spin's ⟨X_0⟩ small in the ferromagnet, near 1 deep in the paramagnet
    x0 = np.kron(np.array([[0.0, 1.0], [1.0, 0.0]]), np.eye(2**5))
    magnetisation = [psi @ x0 @ psi for psi in (task.ground_state(6, h)[1] for h in (0.3, 3.0))]
    assert magnetisation[0] < 0.4 < 0.9 < magnetisation[1]


def test_the_noisy_density_path_is_the_statevector_at_zero_noise_and_the_library_with_noise():
    n, blocks, readout = 3, 2, 1
    rng = np.random.RandomState(5)
    with jax.enable_x64(True):
        w, phi = (jnp.asarray(rng.uniform(0, 2 * np.pi, 3 * n * blocks)) for _ in range(2))
        pure = (1 - quantum.expval_z(task.classifier_state(w, phi, n))[readout]) / 2
        zero = task.noisy_prob_one(w, phi, n, readout, quantum.NoiseModel())
        assert float(zero) == pytest.approx(float(pure), abs=1e-12)
        noise = quantum.NoiseModel(0.01, 0.04, 0.02, 0.05)  # gate by gate, as the chip runs it
        rho = quantum.simulate_density(task.classifier_circuit(n, blocks), w, phi, noise)
        probs = noise.measure(density.probabilities(rho))
        want = float(jnp.sum(jnp.take(probs, 1, axis=readout)))
        assert float(task.noisy_prob_one(w, phi, n, readout, noise)) == pytest.approx(
            want, abs=1e-12
        )
        assert abs(want - float(pure)) > 1e-3
    chip = task.noise_model(config.get_config("cpu"))  # p from the average gate fidelity
    assert chip.depolarizing_1q == pytest.approx(1.5 * 6e-4)
    assert chip.depolarizing_2q == pytest.approx(1.25 * 6e-3)


def test_the_adversarial_loss_is_half_clean_half_attacked(smoke_digits):
    c, run, weights = smoke_digits
    batch = run.batch(run.keys.data, 0)
    params = {"weights": weights}
    loss, metrics = jax.jit(
        lambda p: task.classifier_loss(p, batch, None, model=None, step=0, config=c)
    )(params)
    assert c.adversarial.epsilon > 0
    want = 0.5 * metrics["cross_entropy"] + 0.5 * metrics["adversarial_cross_entropy"]
    assert float(loss) == pytest.approx(float(want), rel=1e-6)
    assert float(metrics["adversarial_cross_entropy"]) > float(metrics["cross_entropy"])
    plain = config.get_config("smoke")
    assert plain.adversarial.epsilon == 0.0
    loss, metrics = jax.jit(
        lambda p: task.classifier_loss(p, batch, None, model=None, step=0, config=plain)
    )(params)
    assert float(loss) == pytest.approx(float(metrics["cross_entropy"]))
    assert "adversarial_cross_entropy" not in metrics


def test_the_digits_pair_and_the_paper_scale():
    c = config.get_config("pair=3v8")
    split = task.digits_pair_split(c)
    assert set(np.unique(split["y_train"])) == {0, 1} and split["x_train"].shape[1] == 64
    paper = config.get_config("paper")
    task.validate(paper)
    run = task.build(paper)  # built, not compiled: 16×16 = 256 pixels in 9 blocks of 30 angles
    assert run.arrays["x_train"].shape[1] == 256 and paper.model.blocks == 9
    assert task.num_weights(paper) == 270
    x = run.arrays["x_train"][0].reshape(16, 16)
    np.testing.assert_array_equal(x[::2, ::2], x[1::2, 1::2])  # each pixel repeated 2×2
    angles = task.digits_angles(run.arrays["x_train"][0], jnp.zeros(256), paper)
    assert angles.shape == (270,) and np.allclose(angles[256:], np.pi)


def test_the_sweep_lists_every_run_over_the_seeds():
    members = config.get_sweep("cpu")
    assert len(members) == 6 * config.NUM_SEEDS["cpu"]
    configs = config_lib.load_sweep("experiments.p57_quantum_adversarial.config:smoke,seeds=2")
    assert [c.seed for c in configs] == [0, 1] * 2
    assert [c.data.kind for c in configs[::2]] == ["digits", "ising"]
    assert all(c.adversarial.epsilon > 0 and c.task == config.TASK for c in configs)


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(UserError, match="unknown data 'mnist'"):
        config.get_config("data=mnist")
    with pytest.raises(UserError, match="pair must be two different digits"):
        config.get_config("pair=1v1")
    with pytest.raises(UserError, match="only the digits have a pair"):
        config.get_config("data=ising,pair=3v8")
    with pytest.raises(UserError, match="use one of the settings"):
        config.get_config("cpu,smoke")
    with pytest.raises(UserError, match="seeds must be at least 1"):
        config.get_sweep("seeds=-1")
    c = config.get_config("cpu")
    c.model.blocks = 2
    with pytest.raises(UserError, match="holds 60 angles, fewer than the 64 pixels"):
        task.validate(c)
    c = config.get_config("cpu")
    c.model.readout = 10
    with pytest.raises(UserError, match="'model.readout' must be a qubit in"):
        task.validate(c)
    c = config.get_config("data=ising")
    c.attack.epsilons = (0.1, 0.0)
    with pytest.raises(UserError, match="'attack.epsilons' must be positive"):
        task.validate(c)
