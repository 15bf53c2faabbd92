"""`CircuitLayer`: shapes, vmap over the batch equal to one-sample simulation, training inside a
Flax model with either gradient, and shot noise."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from disentax import quantum as q


def encoder_circuit(n=3):
    """RY(x_i) encoding, a trainable RX·RZ layer and a CNOT chain."""
    c = q.Circuit(n)
    for i in range(n):
        c = c.ry(i, q.Input(i))
    for i in range(n):
        c = c.rx(i, q.Weight(2 * i)).rz(i, q.Weight(2 * i + 1))
    for i in range(n - 1):
        c = c.cnot(i, i + 1)
    return c


class Hybrid(nn.Module):
    gradient: str = "autodiff"

    @nn.compact
    def __call__(self, x):
        angles = jnp.pi * jnp.tanh(nn.Dense(2)(x))
        z = q.CircuitLayer(encoder_circuit(2), gradient=self.gradient)(angles)
        return nn.Dense(1)(z)[..., 0]


def test_layer_shapes_and_vmap_equal_single_samples():
    c = encoder_circuit()
    x = jax.random.uniform(jax.random.key(0), (2, 5, 3), minval=-3, maxval=3)
    for readout, width in (("probabilities", 8),):
        layer = q.CircuitLayer(c, readout=readout)
        params = layer.init(jax.random.key(1), x)
        assert params["params"]["weights"].shape == (c.num_weights,)
        y = layer.apply(params, x)  # eagerly: the layer's own jitted batched function
        assert y.shape == (2, 5, width)
        f = q.circuit_function(c, readout)
        w = params["params"]["weights"]
        np.testing.assert_allclose(y[1, 3], f(w, x[1, 3]), atol=1e-6)


def test_hybrid_model_trains_and_parameter_shift_gives_the_same_gradient():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(32, 4)), jnp.float32)
    y = jnp.sin(x[:, 0]) * 0.8
    model = Hybrid()
    params = model.init(jax.random.key(0), x)

    def loss_of(model):
        return lambda p: jnp.mean((model.apply(p, x) - y) ** 2)

    opt = optax.adam(0.05)
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        value, grads = jax.value_and_grad(loss_of(model))(params)
        updates, state = opt.update(grads, state)
        return optax.apply_updates(params, updates), state, value, grads

    # Every parameter's gradient, the circuit's inputs' included (through the Dense layer).
    g_ps = jax.jit(jax.grad(loss_of(Hybrid("parameter_shift"))))(params)
    losses = []
    for i in range(40):
        params, state, value, grads = step(params, state)
        losses.append(float(value))
        if i == 0:
            for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(g_ps), strict=True):
                np.testing.assert_allclose(b, a, atol=2e-5)
    assert losses[-1] < 0.5 * losses[0]


def test_shots_give_noisy_values_and_the_exact_gradient():
    c = encoder_circuit(2)
    x = jnp.full((64, 2), 0.7)
    exact_layer = q.CircuitLayer(c)
    shot_layer = q.CircuitLayer(c, shots=1000)
    params = exact_layer.init(jax.random.key(0), x)

    @jax.jit
    def values_and_gradients(params):
        rngs = {"shots": jax.random.key(3)}
        exact, g_exact = jax.value_and_grad(lambda p: exact_layer.apply(p, x).sum(0)[0])(params)
        noisy = shot_layer.apply(params, x, rngs=rngs)
        g_noisy = jax.grad(lambda p: shot_layer.apply(p, x, rngs=rngs).sum(0)[0])(params)
        return exact / 64, noisy, g_exact, g_noisy

    exact, noisy, g_exact, g_noisy = values_and_gradients(params)
    # Every row is the same circuit: rows differ only by shot noise, of sd ≤ 1/sqrt(shots).
    assert float(jnp.std(noisy[:, 0])) > 0
    assert float(jnp.max(jnp.abs(noisy[:, 0] - exact))) < 5 / np.sqrt(1000)
    assert abs(float(jnp.mean(noisy[:, 0]) - exact)) < 4 / np.sqrt(64 * 1000)
    # The gradient is that of the exact expectation.
    np.testing.assert_allclose(
        g_noisy["params"]["weights"], g_exact["params"]["weights"], atol=1e-5
    )
