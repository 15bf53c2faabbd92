"""Samplers with the closed-form optimal denoiser of Gaussian data: distributions, round trips,
the DPM-Encoder's exact reconstruction, guidance, and a vmapped population."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax import diffusion
from disentax.diffusion import schedule
from disentax.errors import UserError
from tests.diffusion.gaussian import MEAN, STD, exact_epsilon

N = 4000


def _assert_gaussian(x, mean=MEAN, std=STD, slack=1.0):
    x = np.asarray(x)
    se_mean, se_std = std / np.sqrt(len(x)), std / np.sqrt(2 * len(x))
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 4 * se_mean * slack)
    np.testing.assert_array_less(np.abs(x.std(0) - std), 4 * se_std * slack)
    assert abs(np.corrcoef(x.T)[0, 1]) < 4 / np.sqrt(len(x))


@pytest.mark.parametrize("variance", ["small", "large"])
def test_ddpm_with_the_optimal_denoiser_draws_the_data(variance):
    s = schedule.linear(1000)
    sample = jax.jit(
        lambda k: diffusion.ddpm_sample(exact_epsilon(s), s, k, (N, 2), variance=variance)
    )
    _assert_gaussian(sample(jax.random.key(0)))


def test_ddim_with_the_optimal_denoiser_draws_the_data():
    s = schedule.linear(1000)
    x_last = jax.random.normal(jax.random.key(1), (N, 2))
    eps_fn = exact_epsilon(s)
    fine = np.asarray(diffusion.ddim_sample(eps_fn, s, x_last, 1000)).std(0)
    _assert_gaussian(diffusion.ddim_sample(eps_fn, s, x_last, 1000))
    # fewer steps: the ODE's discretisation error shrinks the spread of s ≠ 1 data, O(1/S)
    error = [
        np.abs(np.asarray(diffusion.ddim_sample(eps_fn, s, x_last, n)).std(0) - fine).max()
        for n in (25, 50, 200)
    ]
    assert 0.02 < error[1] < 0.1 and error[0] > 1.6 * error[1] > 3 * error[2], error
    # stochastic DDIM (η = 1) on 1,000 steps is the ancestral sampler with σ² = β̃
    stochastic = diffusion.ddim_sample(eps_fn, s, x_last, 1000, eta=1.0, key=jax.random.key(2))
    _assert_gaussian(stochastic)


def test_ddim_inversion_then_sampling_reconstructs():
    s = schedule.linear(1000)
    x0 = jnp.asarray(MEAN + STD * np.random.RandomState(0).randn(64, 2), jnp.float32)
    eps_fn = exact_epsilon(s)

    def round_trip(steps, iterations):
        latent = diffusion.ddim_invert(eps_fn, s, x0, steps, fixed_point_iterations=iterations)
        return float(jnp.max(jnp.abs(diffusion.ddim_sample(eps_fn, s, latent, steps) - x0)))

    # the usual inversion (ε̂ of the step below) errs O(1/S); fixed-point rounds remove it
    naive50, naive200 = round_trip(50, 0), round_trip(200, 0)
    assert 3 * naive200 < naive50 < 0.3, (naive50, naive200)
    assert round_trip(50, 2) <= 1e-2 * naive50 + 1e-3
    assert round_trip(50, 5) <= 1e-4
    latent = diffusion.ddim_invert(eps_fn, s, x0, 50, fixed_point_iterations=5)
    assert abs(float(latent.std()) - 1.0) < 0.25  # the data mapped onto the prior


@pytest.mark.parametrize("variance", ["small", "large"])
def test_dpm_encoder_reconstructs_exactly(variance):
    s = schedule.linear(1000)
    x0 = jnp.asarray(np.random.RandomState(1).randn(32, 2) * 3, jnp.float32)  # off the data too
    eps_fn = exact_epsilon(s)
    x_last, noises = diffusion.dpm_encode(eps_fn, s, x0, jax.random.key(3), variance=variance)
    assert noises.shape == (1000, 32, 2)
    back = diffusion.ddpm_decode(eps_fn, s, x_last, noises, variance=variance)
    assert float(jnp.max(jnp.abs(back - x0))) <= 1e-5
    # its noises are the sampler's: standard normal for the data's own samples
    assert abs(float(noises[1:].std()) - 1.0) < 0.1


class Conditional(nn.Module):
    """ε̂ = x·w + embedding(c): a toy class-conditional denoiser with a null class."""

    @nn.compact
    def __call__(self, x, t, c):
        del t
        return x * self.param("w", nn.initializers.ones, (2,)) + nn.Embed(4, 2)(c)


def test_guidance_weights_zero_and_one_are_the_two_models():
    s = schedule.linear(100)
    model = Conditional()
    x = jax.random.normal(jax.random.key(0), (5, 2))
    c = jnp.asarray([0, 1, 2, 0, 1])
    t = jnp.full((5,), 40)
    params = model.init(jax.random.key(1), x, t, c)["params"]
    null = 3
    unconditional = model.apply({"params": params}, x, t, jnp.full((5,), null))
    conditional = model.apply({"params": params}, x, t, c)

    def guided(w):
        return diffusion.denoiser(model, params, s, cond=c, guidance=w, null_condition=null)(x, t)

    np.testing.assert_allclose(guided(0.0), unconditional, atol=1e-6)
    np.testing.assert_allclose(guided(1.0), conditional, atol=1e-6)
    np.testing.assert_allclose(
        guided(3.0), unconditional + 3 * (conditional - unconditional), atol=1e-5
    )


@pytest.mark.parametrize("prediction", ["x0", "v"])
def test_denoiser_converts_any_parameterisation_to_epsilon(prediction):
    s = schedule.cosine(100)

    class Predicts(nn.Module):
        """The exact x_0- or v-prediction, computed from the exact ε."""

        @nn.compact
        def __call__(self, x, t):
            eps = exact_epsilon(s)(x, t)
            ab = s.alpha_bars[t][:, None]
            x0 = (x - jnp.sqrt(1 - ab) * eps) / jnp.sqrt(ab)
            return x0 if prediction == "x0" else jnp.sqrt(ab) * eps - jnp.sqrt(1 - ab) * x0

    x = jax.random.normal(jax.random.key(0), (8, 2))
    t = jnp.arange(8) * 10
    eps = diffusion.denoiser(Predicts(), {}, s, prediction=prediction)(x, t)
    np.testing.assert_allclose(eps, exact_epsilon(s)(x, t), rtol=1e-3, atol=1e-3)


def test_a_population_of_denoisers_samples_vmapped_as_looped():
    s = schedule.linear(200, 1e-3, 0.05)
    model = diffusion.denoisers.ResidualMLP.tiny()
    x = jnp.zeros((16, 2))
    t = jnp.zeros((16,), jnp.int32)
    keys = jax.random.split(jax.random.key(0), 3)
    population = jax.vmap(lambda k: model.init(k, x, t)["params"])(keys)
    population = jax.tree.map(lambda p: p + 0.1 * jnp.ones_like(p), population)  # non-zero outputs
    x_last = jax.random.normal(jax.random.key(1), (16, 2))

    def sample(params):
        return diffusion.ddim_sample(diffusion.denoiser(model, params, s), s, x_last, 20)

    vmapped = jax.jit(jax.vmap(sample))(population)
    looped = [jax.jit(sample)(jax.tree.map(lambda p, i=i: p[i], population)) for i in range(3)]
    np.testing.assert_allclose(vmapped, np.stack(looped), rtol=1e-5, atol=1e-5)
    assert float(jnp.abs(vmapped[0] - vmapped[1]).max()) > 1e-3


def test_sampler_errors_are_one_line():
    s = schedule.linear(10)
    with pytest.raises(UserError, match="num_steps must be in 1..10"):
        diffusion.ddim_timesteps(10, 11)
    with pytest.raises(UserError, match="give it a key"):
        diffusion.ddim_sample(exact_epsilon(s), s, jnp.zeros((2, 2)), 5, eta=0.5)
    with pytest.raises(UserError, match="needs a condition"):
        diffusion.denoiser(Conditional(), {}, s, guidance=2.0)


def test_ddpm_sample_with_x0_is_ddpm_sample_and_records_the_last_predictions():
    s = schedule.linear(100, 1e-3, 0.2)
    eps_fn, key = exact_epsilon(s), jax.random.key(7)
    plain = diffusion.ddpm_sample(eps_fn, s, key, (256, 2), variance="large")
    x0, x0_hat = diffusion.ddpm_sample_with_x0(eps_fn, s, key, (256, 2), last=10, variance="large")
    np.testing.assert_allclose(x0, plain, atol=1e-6)  # the same draws, the same steps
    assert x0_hat.shape == (10, 256, 2)
    # the last step (t = 0, no noise, μ̃_0 = x̂_0) returns its prediction: x_0 = x̂_0[-1]
    np.testing.assert_allclose(x0_hat[-1], x0, rtol=1e-4)  # c_0 = β_0/(1 − ᾱ_0) in float32
    # x̂_0[i] is the prediction at t = 9 − i: the spread of E[x_0 | x_t] shrinks as t grows
    spread = np.asarray(x0_hat).std(1).mean(-1)
    assert spread[0] < spread[5] < spread[9]
    # for Gaussian data the optimal x̂_0 moves little over the last steps and ends on the data
    _assert_gaussian(x0_hat[-1], slack=3.0)
    # the paper's schedule (β to 0.2 over T = 1000) underflows ᾱ_t; the ε-form mean stays finite
    long = schedule.linear(1000, 1e-3, 0.2)
    x, _ = diffusion.ddpm_sample_with_x0(exact_epsilon(long), long, key, (N, 2), last=1)
    _assert_gaussian(x)
    np.testing.assert_allclose(
        diffusion.ddpm_sample(exact_epsilon(long), long, key, (N, 2)), x, atol=1e-6
    )
    with pytest.raises(UserError, match="last must be in 1..100, got 0"):
        diffusion.ddpm_sample_with_x0(eps_fn, s, key, (2, 2), last=0)
