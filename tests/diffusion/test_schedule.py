"""Schedules and parameterisations: closed forms and round trips."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.diffusion import parameterisation, schedule
from disentax.errors import UserError


def test_linear_schedule_runs_from_start_to_end_and_accumulates():
    s = schedule.linear(1000)
    np.testing.assert_allclose([s.betas[0], s.betas[-1]], [1e-4, 0.02], rtol=1e-6)
    np.testing.assert_allclose(s.alpha_bars[:3], np.cumprod(1 - np.asarray(s.betas[:3])), rtol=1e-6)
    assert 1e-5 < float(s.alpha_bars[-1]) < 1e-4  # DDPM's ᾱ_T ≈ 4e-5


def test_cosine_schedule_follows_its_squared_cosine():
    t_total, offset = 1000, 0.008
    s = schedule.cosine(t_total, offset)
    f = np.cos((np.arange(t_total + 1) / t_total + offset) / (1 + offset) * np.pi / 2) ** 2
    # ᾱ_t = f(t + 1)/f(0) wherever β was not clipped at 0.999 (all but the last steps)
    np.testing.assert_allclose(s.alpha_bars[:900], (f[1:] / f[0])[:900], rtol=2e-4)
    assert float(jnp.max(s.betas)) <= 0.999 + 1e-7


def test_posterior_matches_gaussian_conditioning():
    """q(x_{t−1} | x_t, x_0) by conditioning the joint of (x_{t−1}, x_t) given x_0."""
    s = schedule.linear(50, 1e-3, 0.3)
    ab, ab_prev, alpha = (
        np.asarray(a, np.float64) for a in (s.alpha_bars, s.alpha_bars_prev, 1 - s.betas)
    )
    var_prev, var_t = 1 - ab_prev, 1 - ab
    cov = np.sqrt(alpha) * var_prev
    c0, ct = s.posterior_mean_coefficients()
    # mean = √ᾱ_{t−1} x_0 + cov/var_t (x_t − √ᾱ_t x_0) = c_0 x_0 + c_t x_t
    np.testing.assert_allclose(ct, cov / var_t, rtol=1e-5)
    np.testing.assert_allclose(
        c0, np.sqrt(ab_prev) - cov / var_t * np.sqrt(ab), rtol=1e-4, atol=1e-7
    )
    np.testing.assert_allclose(
        s.posterior_variance, var_prev - cov**2 / var_t, rtol=1e-4, atol=1e-9
    )
    assert float(s.posterior_variance[0]) == 0.0
    large = s.reverse_variance("large")
    np.testing.assert_allclose(large[1:], s.betas[1:])
    assert (
        float(large[0]) == float(s.reverse_variance("small")[0]) == float(s.posterior_variance[1])
    )


@pytest.mark.parametrize("prediction", parameterisation.PREDICTIONS)
def test_every_parameterisation_recovers_x0_and_epsilon(prediction):
    s = schedule.cosine(100)
    kx, ke, kt = jax.random.split(jax.random.key(0), 3)
    x0 = jax.random.normal(kx, (16, 4, 4, 3))
    eps = jax.random.normal(ke, x0.shape)
    t = jax.random.randint(kt, (16,), 0, 100)
    x_t = s.noise(x0, t, eps)
    target = parameterisation.target(s, prediction, x0, eps, t)
    x0_hat, eps_hat = parameterisation.to_x0_and_epsilon(s, prediction, target, x_t, t)
    np.testing.assert_allclose(x0_hat, x0, atol=2e-3 if prediction == "epsilon" else 1e-4)
    np.testing.assert_allclose(eps_hat, eps, atol=2e-3 if prediction == "x0" else 1e-4)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: schedule.make("quadratic", 10),
            "unknown noise schedule 'quadratic'; known: linear, cosine",
        ),
        (lambda: schedule.make("linear", 1), "num_timesteps must be an integer >= 2"),
        (lambda: schedule.linear(10, 0.2, 0.1), "0 < beta_start <= beta_end < 1"),
        (lambda: schedule.linear(10).reverse_variance("medium"), "unknown reverse variance"),
        (lambda: parameterisation.check_prediction("score"), "known: epsilon, x0, v"),
    ],
)
def test_bad_choices_are_one_line_errors(call, match):
    with pytest.raises(UserError, match=match):
        call()
