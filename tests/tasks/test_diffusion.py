"""The DDPM task: schedule, sampler and W1 in closed form, and a trained model's samples."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax import config as config_lib
from disentax.errors import UserError
from disentax.tasks.diffusion import linear_betas, sample, wasserstein_1d
from disentax.train import build, restore_run, train

MU, S = 1.0, 0.5  # a Gaussian N(μ, s²), whose optimal ε-predictor is known in closed form


class ExactDenoiser(nn.Module):
    """E[ε | x_t] = √(1 − ᾱ_t)(x_t − √ᾱ_t μ) / (ᾱ_t s² + 1 − ᾱ_t) for x_0 ~ N(μ, s²)."""

    alpha_bar: jax.Array

    def __call__(self, x, t):
        a = self.alpha_bar[t][:, None]
        return jnp.sqrt(1 - a) * (x - jnp.sqrt(a) * MU) / (a * S**2 + 1 - a)


def test_linear_betas_run_from_start_to_end():
    betas = linear_betas(100, 1e-3, 0.2)
    assert betas.shape == (100,)
    np.testing.assert_allclose([betas[0], betas[-1]], [1e-3, 0.2], rtol=1e-6)
    assert float(jnp.prod(1 - betas)) < 1e-4  # x_T is (almost) pure noise


def test_the_sampler_with_the_exact_denoiser_draws_the_data_distribution():
    betas = linear_betas(100, 1e-3, 0.2)
    model = ExactDenoiser(jnp.cumprod(1 - betas))
    x = np.asarray(sample(model, {}, betas, jax.random.PRNGKey(0), 20_000, 1))
    assert abs(x.mean() - MU) < 0.02
    assert abs(x.std() - S) < 0.02


def test_w1_of_a_shift_is_the_shift():
    a = jax.random.normal(jax.random.PRNGKey(0), (1000, 2))
    np.testing.assert_allclose(wasserstein_1d(a, a + 0.3), 0.3, rtol=1e-5)
    np.testing.assert_allclose(wasserstein_1d(a, a[::-1]), 0.0, atol=1e-7)


def test_a_trained_ddpm_draws_both_modes(tmp_path):
    config = config_lib.load_config("diffusion_1d")
    config.optimizer.learning_rate = 3e-3
    results = train(config, tmp_path, progress=False)
    assert results["eval/w1"] < 0.15, results  # N(0, 1) against the data: W1 = 1.2
    task, state = restore_run(tmp_path)
    x = np.asarray(task.sample(state.params, jax.random.PRNGKey(1), 4000))
    right = np.mean(x > 0)
    assert 0.4 < right < 0.6
    near = np.abs(np.abs(x) - config.data.separation / 2) < 3 * config.data.mode_std
    assert near.mean() > 0.9


def test_bad_schedule_is_a_one_line_error():
    config = config_lib.load_config("diffusion_1d:tiny")
    config.diffusion.beta_end = 1.5
    with pytest.raises(UserError, match="0 < beta_start <= beta_end < 1"):
        build(config)
