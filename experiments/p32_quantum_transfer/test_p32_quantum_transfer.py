"""P32's mechanism in closed forms: the feature map's outcome probabilities as a permuted product
of one-qubit marginals (so θ and π − θ give the same features), the shot estimate's mean and
variance, the principal axes, the two phases (the autoencoder moves only in the first, the head
only in the second, each phase's Adam fresh); the config and its bad inputs."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from disentax import config as config_lib
from disentax.errors import UserError
from disentax.train.task import task_module
from experiments.p32_quantum_transfer import config, task


def product_form(theta: np.ndarray) -> np.ndarray:
    """p(c) = Π_i q_i(b_i), q_i(0) = (1 + sin θ_i)/2, b the outcome c before the CNOT cascade:
    b_0 = c_0, b_i = c_i ⊕ c_{i−1} (the cascade writes prefix parities), qubit 0 first."""
    n = theta.shape[0]
    q0 = (1 + np.sin(theta)) / 2
    out = np.zeros(2**n)
    for index, c in enumerate(itertools.product((0, 1), repeat=n)):
        b = [c[0]] + [c[i] ^ c[i - 1] for i in range(1, n)]
        out[index] = np.prod([q0[i] if bit == 0 else 1 - q0[i] for i, bit in enumerate(b)])
    return out


def test_the_feature_map_gives_a_permuted_product_of_one_qubit_marginals():
    theta = np.random.RandomState(0).uniform(-4, 4, (3, 5))
    got = np.asarray(task.circuit_probabilities(5)(jnp.asarray(theta, jnp.float32)))
    for row, want in zip(got, map(product_form, theta), strict=True):
        np.testing.assert_allclose(row, want, atol=2e-6)
    ops = [op.name for op in task.feature_map(5).ops]
    assert ops == ["ry"] * 5 + ["h"] * 5 + ["cnot"] * 4


def test_theta_and_pi_minus_theta_are_the_same_features_but_not_within_a_half_turn():
    # sin θ folds at π/2: the angle range [0, π] maps two components to one feature vector;
    # [0, π/2] (scale 0.5) keeps them apart.
    theta = jnp.asarray([[0.3, 1.1, 0.2, 1.4, 0.9]])
    probs = task.circuit_probabilities(5)
    np.testing.assert_allclose(probs(theta), probs(jnp.pi - theta), atol=1e-6)
    other = theta.at[0, 1].set(0.5)
    assert float(jnp.abs(probs(theta) - probs(other)).max()) > 1e-2


def test_the_principal_axes_are_numpys_pca_signed_and_their_variance_share():
    z = jnp.asarray(np.random.RandomState(1).randn(200, 6) * np.arange(1, 7), jnp.float32)
    mean, axes, explained = task.principal_axes(z, 2)
    zc = np.asarray(z - z.mean(0), np.float64)
    lam, vec = np.linalg.eigh(zc.T @ zc / len(zc))
    top = vec[:, ::-1][:, :2]
    top *= np.sign(top[np.abs(top).argmax(axis=0), [0, 1]])
    np.testing.assert_allclose(axes, top, atol=1e-4)
    np.testing.assert_allclose(mean, z.mean(0), atol=1e-5)
    assert float(explained) == pytest.approx(lam[::-1][:2].sum() / lam.sum(), rel=1e-4)


def test_a_phase_is_frozen_outside_its_steps_and_starts_a_fresh_adam():
    params = {"w": jnp.ones(3)}
    tx = task.during(2, 4, optax.adam(0.1))
    state = tx.init(params)
    fresh = optax.adam(0.1)
    fresh_state = fresh.init(params)
    for count in range(6):
        grads = {"w": jnp.full(3, float(count + 1))}
        updates, state = tx.update(grads, state, params)
        if 2 <= count < 4:  # the phase's Adam sees only its own gradients
            want, fresh_state = fresh.update(grads, fresh_state, params)
            np.testing.assert_allclose(updates["w"], want["w"], rtol=1e-6)
        else:
            np.testing.assert_array_equal(updates["w"], 0.0)


def test_the_autoencoder_trains_only_in_phase_one_and_the_head_only_in_phase_two():
    c = config.get_config("variant=quantum,shots=16,smoke")  # 3 + 3 steps
    run = task_module(c).build(c)  # built, not compiled: the optimizer and the batch only
    params = run.model.init(jax.random.PRNGKey(0), *run.example_inputs())["params"]
    assert set(params) == {"encoder", "decoder", "head"}
    state = run.tx.init(params)
    grads = jax.tree.map(jnp.ones_like, params)
    switch = c.phases.autoencoder_steps
    update = jax.jit(run.tx.update)
    for step in range(c.num_steps):
        updates, state = update(grads, state, params)
        for part, leaves in jax.device_get(updates).items():
            moved = any(np.any(u != 0) for u in jax.tree.leaves(leaves))
            assert moved == ((step < switch) == (part != "head")), (part, step)
    # an example's shot counts are drawn once: its key depends on the run and the example only
    batch = jax.device_get(jax.jit(run.batch)(run.keys.data, 1))
    root = jax.random.fold_in(run.keys.data, task.SHOT_STREAM)
    want = jax.vmap(lambda i: jax.random.fold_in(root, i))(batch["index"])
    np.testing.assert_array_equal(batch["shot_keys"], want)
    np.testing.assert_array_equal(batch["x"], run.arrays["x_train"][batch["index"]])


def test_the_head_loss_is_off_in_phase_one_and_does_not_reach_the_autoencoder():
    c = config.get_config("variant=pca,smoke")
    run = task_module(c).build(c)
    params = run.model.init(jax.random.PRNGKey(0), *run.example_inputs())["params"]
    batch = jax.jit(run.batch)(run.keys.data, 0)
    grad = jax.jit(jax.grad(lambda p, s: run.loss_fn(p, batch, None, step=s), has_aux=True))
    for step in (0, c.phases.autoencoder_steps):
        grads, metrics = grad(params, step)
        assert (float(metrics["cross_entropy"]) > 0) == (step > 0)
        head_moves = any(bool(jnp.any(g != 0)) for g in jax.tree.leaves(grads["head"]))
        assert head_moves == (step > 0)
    # the encoder's gradient is the reconstruction's alone: the features are stop_gradient-ed
    recon = jax.grad(
        lambda p: jnp.mean((run.model.apply({"params": p}, batch["x"], method="reconstruct")
                            - batch["x"]) ** 2)
    )(params)  # fmt: skip
    np.testing.assert_allclose(grads["encoder"]["kernel"], recon["encoder"]["kernel"], atol=1e-7)


def test_the_sweep_lists_every_run_over_the_seeds():
    members = config.get_sweep("cpu")
    assert len(members) == (2 + 2 * len(config.SCALES["cpu"])) * config.NUM_SEEDS["cpu"]
    configs = config_lib.load_sweep("experiments.p32_quantum_transfer.config:smoke,seeds=2")
    assert [c.seed for c in configs] == [0, 1] * 2
    assert [c.features.kind for c in configs[::2]] == ["latent", "quantum"]
    assert [c.features.shots for c in configs[::2]] == [0, config.SHOTS]
    assert all(c.task == config.TASK for c in configs)
    paper = config.get_config("paper")
    assert paper.num_steps > config.get_config("cpu").num_steps
    task.validate(paper)


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(UserError, match="unknown variant 'qnn'"):
        config.get_config("variant=qnn")
    with pytest.raises(UserError, match="only the quantum variant has shots"):
        config.get_config("variant=pca,shots=10")
    with pytest.raises(UserError, match="shots must be >= 0 and scale > 0"):
        config.get_config("variant=quantum,scale=0")
    with pytest.raises(UserError, match="use one of the settings"):
        config.get_config("cpu,smoke")
    with pytest.raises(UserError, match="seeds must be at least 1"):
        config.get_sweep("seeds=-1")
    c = config.get_config("variant=quantum")
    c.features.num_qubits = 17
    with pytest.raises(UserError, match="exceeds the latent's 16 dimensions"):
        task.validate(c)
    c = config.get_config("variant=quantum")
    c.phases.autoencoder_steps = c.num_steps + 1
    with pytest.raises(UserError, match="'phases.autoencoder_steps' must be in"):
        task.validate(c)
