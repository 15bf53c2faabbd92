"""Measurement: probabilities, ⟨Z_i⟩, and shot sampling with a JAX key."""

import jax
import jax.numpy as jnp
import numpy as np

from disentax import quantum as q


def test_probabilities_and_expval_z_of_a_product_state():
    # RY(θ_i) on each qubit: p(b_i = 0) = cos²(θ_i/2), ⟨Z_i⟩ = cos θ_i.
    thetas = [0.3, 1.1, 2.5]
    c = q.Circuit(3)
    for i, t in enumerate(thetas):
        c = c.ry(i, t)
    state = q.simulate(c)
    probs = q.probabilities(state)
    assert probs.shape == (2, 2, 2)
    c0, s0 = np.cos(np.array(thetas) / 2) ** 2, np.sin(np.array(thetas) / 2) ** 2
    np.testing.assert_allclose(float(probs[1, 0, 1]), s0[0] * c0[1] * s0[2], atol=1e-6)
    np.testing.assert_allclose(float(jnp.sum(probs)), 1.0, atol=1e-6)
    np.testing.assert_allclose(q.expval_z(state), np.cos(thetas), atol=1e-6)


def test_sample_of_a_basis_state_gives_its_bits():
    bits = q.sample(jax.random.key(0), q.probabilities(q.basis_state([1, 0, 1, 1])), 50)
    assert bits.shape == (50, 4)
    np.testing.assert_array_equal(bits, np.tile([1, 0, 1, 1], (50, 1)))


def test_sample_frequencies_match_probabilities():
    c = q.Circuit(2).ry(0, 1.0).ry(1, 2.0).cnot(0, 1)
    probs = q.probabilities(q.simulate(c))
    shots = 20_000
    bits = np.asarray(q.sample(jax.random.key(1), probs, shots))
    index = bits[:, 0] * 2 + bits[:, 1]
    frequencies = np.bincount(index, minlength=4) / shots
    p = np.asarray(probs).reshape(-1)
    # Within 5 standard errors of a multinomial frequency.
    np.testing.assert_array_less(np.abs(frequencies - p), 5 * np.sqrt(p * (1 - p) / shots) + 1e-9)
    estimate = q.estimate_probabilities(jax.random.key(1), probs, shots)
    np.testing.assert_allclose(np.asarray(estimate).reshape(-1), frequencies, atol=1e-7)


def test_shot_estimate_is_a_multinomial_estimate_of_p():
    p = jnp.asarray([0.5, 0.0, 0.3, 0.15, 0.05, 0.0, 0.0, 0.0]).reshape(2, 2, 2)
    shots = 64
    keys = jax.random.split(jax.random.key(0), 4000)
    draws = jax.jit(jax.vmap(lambda k: q.estimate_probabilities(k, p, shots)))(keys)
    draws, p = np.asarray(draws).reshape(-1, 8), np.asarray(p).reshape(-1)
    np.testing.assert_allclose(draws.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(draws[:, p == 0], 0.0)  # never an impossible outcome
    assert np.allclose(draws * shots, np.round(draws * shots))  # counts / shots
    np.testing.assert_allclose(draws.mean(axis=0), p, atol=0.005)
    np.testing.assert_allclose(draws.var(axis=0), p * (1 - p) / shots, rtol=0.1, atol=1e-6)


def test_shot_estimate_of_z_is_unbiased_with_binomial_spread():
    t, shots, repeats = 1.2, 400, 300
    probs = q.probabilities(q.simulate(q.Circuit(1).ry(0, t)))
    key = jax.random.key(2)
    bits = np.asarray(q.sample(key, probs, shots * repeats))[:, 0]
    # The estimate is the mean of the ±1 outcomes of the same draws.
    z = q.estimate_expval_z(key, probs, shots * repeats)
    np.testing.assert_allclose(float(z[0]), np.mean(1 - 2 * bits), atol=1e-6)
    # `repeats` estimates of `shots` shots each: mean cos θ, sd sqrt((1 − cos²θ) / shots).
    estimates = np.mean(1 - 2 * bits.reshape(repeats, shots), axis=1)
    sd = np.sqrt((1 - np.cos(t) ** 2) / shots)
    assert abs(np.mean(estimates) - np.cos(t)) < 4 * sd / np.sqrt(repeats)
    assert 0.8 * sd < np.std(estimates) < 1.2 * sd
