"""P49's mechanism in closed forms: the bottleneck circuits' ⟨Z_i⟩ (encoding alone, QAOA with
γ = 0, one QAOA layer's nearest-neighbour coupling, one unentangled layer), parameter-shift
gradients equal to autodiff through the bottleneck, the parameter counts of the QCAE and the
CAE, SSIM and PSNR in closed forms and against a direct loop, the noise; the config and its bad
inputs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax import config as config_lib
from disentax import quantum
from disentax.errors import UserError
from experiments.p49_qaoa_autoencoder import config, ssim, task
from experiments.p49_qaoa_autoencoder.bottleneck import (
    ANSATZE,
    QuantumBottleneck,
    bottleneck_circuit,
)

RNG = np.random.RandomState(0)


def expval(n, ansatz, depth, weights, z):
    f = quantum.circuit_function(bottleneck_circuit(n, ansatz, depth))
    w = None if depth == 0 else jnp.asarray(weights, jnp.float32)
    return np.asarray(jax.jit(jax.vmap(lambda x: f(w, x)))(jnp.asarray(z, jnp.float32)))


@pytest.mark.parametrize("ansatz", ANSATZE)
def test_the_encoding_alone_gives_cos_z(ansatz):
    z = RNG.uniform(-4, 4, (5, 4))
    np.testing.assert_allclose(expval(4, ansatz, 0, None, z), np.cos(z), atol=2e-6)


def test_qaoa_without_cost_rotates_every_qubit_by_the_summed_mixer_angles():
    z, beta = RNG.uniform(-4, 4, (5, 6)), RNG.uniform(-2, 2, 3)
    weights = np.stack([np.zeros(3), beta], axis=1).reshape(-1)  # γ_k = 0
    want = np.cos(beta.sum()) * np.cos(z)
    np.testing.assert_allclose(expval(6, "qaoa", 3, weights, z), want, atol=3e-6)


@pytest.mark.parametrize("n", [2, 5])
def test_one_qaoa_layer_couples_each_qubit_to_its_ring_neighbours(n):
    # ⟨Z_i⟩ = cos β cos z_i + sin β sin z_i · E[sin(γ K_i)], K_i the sum of Z over i's
    # neighbours: n = 2 (one pair) sin γ cos z_j; a ring ½ sin 2γ (cos z_{i−1} + cos z_{i+1}).
    z = RNG.uniform(-4, 4, (6, n))
    gamma, beta = 0.7, -1.1
    if n == 2:
        coupling = np.sin(gamma) * np.cos(z[:, ::-1])
    else:
        coupling = 0.5 * np.sin(2 * gamma) * (np.cos(np.roll(z, 1, 1)) + np.cos(np.roll(z, -1, 1)))
    want = np.cos(beta) * np.cos(z) + np.sin(beta) * np.sin(z) * coupling
    np.testing.assert_allclose(expval(n, "qaoa", 1, [gamma, beta], z), want, atol=3e-6)


def test_one_unentangled_layer_is_a_rotation_of_each_bloch_vector():
    z = RNG.uniform(-4, 4, (6, 4))
    gamma, beta = 0.4, 1.3
    want = np.cos(beta) * np.cos(z) + np.sin(beta) * np.sin(gamma) * np.sin(z)
    np.testing.assert_allclose(expval(4, "none", 1, [gamma, beta], z), want, atol=3e-6)


def test_the_designs_have_two_angles_per_layer_and_their_gates():
    for ansatz in ANSATZE:
        assert bottleneck_circuit(6, ansatz, 3).num_weights == 6
    names = [op.name for op in bottleneck_circuit(4, "qaoa", 1).ops]
    assert names == ["ry"] * 4 + ["rzz"] * 4 + ["rx"] * 4
    names = [op.name for op in bottleneck_circuit(4, "hea", 1).ops]
    assert names == ["ry"] * 4 + (["ry"] * 4 + ["cnot"] * 4) * 2
    with pytest.raises(UserError, match="unknown ansatz 'qcnn'"):
        bottleneck_circuit(4, "qcnn", 1)


@pytest.mark.parametrize("ansatz, depth", [("qaoa", 2), ("hea", 1), ("none", 1)])
def test_parameter_shift_gradients_of_the_bottleneck_equal_autodiff(ansatz, depth):
    z = RNG.uniform(-3, 3, (3, 3))
    readout = RNG.randn(3, 3)
    grads = {}
    with jax.enable_x64(True):
        for gradient in ("autodiff", "parameter_shift"):
            layer = QuantumBottleneck(3, ansatz, depth, gradient)
            params = layer.init(jax.random.PRNGKey(1), jnp.zeros((1, 3), jnp.float64))
            params = jax.tree.map(lambda p: p.astype(jnp.float64), params)

            def loss(params, z, layer=layer):
                return jnp.sum(layer.apply(params, z) * readout)

            grads[gradient] = jax.jit(jax.grad(loss, argnums=(0, 1)))(params, jnp.asarray(z))
    for ad, ps in zip(*map(jax.tree.leaves, grads.values()), strict=True):
        assert ad.dtype == jnp.float64
        np.testing.assert_allclose(ps, ad, atol=1e-6)


def test_the_cae_has_the_qcaes_parameters_but_the_circuits_angles():
    for n in (4, 8):
        cae = task.count_params(config.get_config(f"variant=classical,qubits={n}"))
        # conv 1→8, conv 8→16 (3×3), Dense(64→n), Dense(n→64), deconv 16→8, deconv 8→1
        assert cae == (9 * 8 + 8) + (72 * 16 + 16) + 65 * n + 64 * (n + 1) + (144 * 8 + 8) + 73
        for ansatz in ANSATZE:
            for p in (1, 4):
                qcae = task.count_params(config.get_config(f"variant={ansatz},p={p},qubits={n}"))
                assert qcae - cae == 2 * p and (qcae - cae) / cae < 0.01
    assert task.count_params(config.get_config("variant=classical")) == 3319


def numpy_ssim(x, y, size=ssim.WINDOW, sigma=ssim.SIGMA):
    """SSIM of two [H, W] images by direct weighted sums over every valid window."""
    g = np.exp(-((np.arange(size) - (size - 1) / 2) ** 2) / (2 * sigma**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (ssim.K1) ** 2, (ssim.K2) ** 2
    values = []
    for a in range(x.shape[0] - size + 1):
        for b in range(x.shape[1] - size + 1):
            px, py = x[a : a + size, b : b + size], y[a : a + size, b : b + size]
            mx, my = (w * px).sum(), (w * py).sum()
            vx, vy = (w * (px - mx) ** 2).sum(), (w * (py - my) ** 2).sum()
            cxy = (w * (px - mx) * (py - my)).sum()
            values.append(
                (2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
            )
    return np.mean(values)


def test_ssim_in_closed_forms_and_against_a_direct_loop():
    x, y = RNG.rand(4, 8, 8), RNG.rand(4, 8, 8)
    np.testing.assert_allclose(ssim.ssim(x, x), 1.0, atol=1e-6)
    np.testing.assert_allclose(ssim.ssim(x, y), ssim.ssim(y, x), atol=1e-7)
    direct = [numpy_ssim(a, b) for a, b in zip(x, y, strict=True)]
    np.testing.assert_allclose(ssim.ssim(x, y), direct, atol=2e-5)
    # constant images a, b: only the luminance term, (2ab + C1) / (a² + b² + C1)
    c1 = ssim.K1**2
    a, b = 0.3, 0.7
    want = (2 * a * b + c1) / (a * a + b * b + c1)
    got = ssim.ssim(np.full((1, 8, 8), a), np.full((1, 8, 8), b))
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # a constant shift c keeps variances and covariance: per window
    # (2μ(μ + c) + C1) / (μ² + (μ + c)² + C1)
    c = 0.2
    rows = ssim.band(8)
    mu = np.einsum("ih,bhw,jw->bij", rows, x, rows)
    want = np.mean((2 * mu * (mu + c) + c1) / (mu**2 + (mu + c) ** 2 + c1), axis=(1, 2))
    np.testing.assert_allclose(ssim.ssim(x, x + c), want, rtol=1e-5)
    assert ssim.ssim_map(x, y).shape == (4, 4, 4) and ssim.band(8).sum(axis=1) == pytest.approx(1)
    np.testing.assert_allclose(ssim.psnr(x, x + 0.1), 20.0, rtol=1e-5)  # −20 log10 0.1
    with pytest.raises(UserError, match="SSIM needs two"):
        ssim.ssim(x[:, :4, :4], y[:, :4, :4])


def test_the_noise_is_clipped_fresh_per_batch_and_fixed_on_the_test_set():
    c = config.get_config("variant=classical,smoke")
    run = task.build(c)
    batch = jax.jit(run.batch)
    b0, b1 = batch(run.keys.data, 0), batch(run.keys.data, 1)
    assert b0["noisy"].shape == (16, 8, 8, 1)
    assert float(b0["noisy"].min()) >= 0 and float(b0["noisy"].max()) <= 1
    assert not np.allclose(b0["noisy"] - b0["clean"], b1["noisy"] - b1["clean"])
    np.testing.assert_array_equal(batch(run.keys.data, 0)["noisy"], b0["noisy"])
    again = task.build(config.get_config("variant=qaoa,p=3,seed=4,smoke"))
    np.testing.assert_array_equal(again.arrays["x_test_noisy"], run.arrays["x_test_noisy"])
    x = jnp.full((2000, 8, 8, 1), 0.5)
    eps = task.corrupt(jax.random.PRNGKey(0), x, 0.2, clip=False) - x
    assert float(eps.mean()) == pytest.approx(0, abs=2e-3)
    assert float(eps.std()) == pytest.approx(0.2, rel=1e-2)


def test_the_sweep_lists_every_run_over_the_seeds():
    members = config.get_sweep("cpu")
    assert len(members) == (1 + 3 * 4 + 3 * 2) * config.NUM_SEEDS["cpu"]
    configs = config_lib.load_sweep("experiments.p49_qaoa_autoencoder.config:smoke,seeds=2")
    assert [c.seed for c in configs] == [0, 1]
    assert [c.model.ansatz for c in configs] == ["qaoa"] * 2
    assert all(c.task == config.TASK for c in configs)
    paper = config_lib.load_sweep("experiments.p49_qaoa_autoencoder.config:paper")
    assert len(paper) == 78 * config.NUM_SEEDS["paper"]
    assert paper[0].num_steps > config.get_config("cpu").num_steps
    task.validate(paper[-1])


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(UserError, match="unknown variant 'qnn'"):
        config.get_config("variant=qnn")
    with pytest.raises(UserError, match="the classical CAE has no circuit layers"):
        config.get_config("variant=classical,p=2")
    with pytest.raises(UserError, match="p must be >= 0, qubits >= 2 and sigma >= 0"):
        config.get_config("qubits=1")
    with pytest.raises(UserError, match="use one of the settings"):
        config.get_config("cpu,smoke")
    with pytest.raises(UserError, match="seeds must be at least 1"):
        config.get_sweep("seeds=-1")
    c = config.get_config("qubits=13")
    with pytest.raises(UserError, match=r"'model.latent' \(the qubits\) must be in \[2, 12\]"):
        task.validate(c)
    c = config.get_config()
    c.model.ansatz = "qcnn"
    with pytest.raises(UserError, match="'model.ansatz': unknown 'qcnn'"):
        task.validate(c)
    c = config.get_config()
    c.data.noise_sigma = -0.1
    with pytest.raises(UserError, match="'data.noise_sigma' must be >= 0"):
        task.validate(c)
