"""The denoising loss: its value for the optimal denoiser in closed form, its parameterisations,
and condition dropout."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.diffusion import objectives, schedule
from tests.diffusion.gaussian import MEAN, STD, exact_epsilon


class Exact(nn.Module):
    schedule: schedule.Schedule

    def __call__(self, x, t):
        return exact_epsilon(self.schedule)(x, t)


def test_loss_of_the_optimal_denoiser_is_the_posterior_variance_of_epsilon():
    """E‖ε − E[ε|x_t]‖²/D = mean_d E_t Var(ε_d | x_t) = mean_d E_t ᾱ_t s_d²/(ᾱ_t s_d² + 1 − ᾱ_t)."""
    s = schedule.linear(1000)
    x = jnp.asarray(MEAN + STD * np.random.RandomState(0).randn(200_000, 2), jnp.float32)
    loss, metrics = objectives.denoising_loss(
        {}, {"x": x}, jax.random.key(0), model=Exact(s), step=0, schedule=s
    )
    ab = np.asarray(s.alpha_bars)[:, None]
    expected = np.mean(ab * STD**2 / (ab * STD**2 + 1 - ab))
    np.testing.assert_allclose(float(loss), expected, rtol=0.01)
    assert float(metrics["loss"]) == float(loss)


class Echo(nn.Module):
    """Outputs its condition (broadcast): shows which conditions the loss passed."""

    @nn.compact
    def __call__(self, x, t, c):
        del t
        return jnp.zeros_like(x) + c[:, None].astype(x.dtype)


@pytest.mark.parametrize("rate", [0.0, 0.3, 1.0])
def test_condition_dropout_replaces_that_share_of_conditions_by_the_null(rate):
    n, null = 20_000, 7
    c = jnp.asarray(np.random.RandomState(0).randint(0, 5, n))
    dropped = objectives.drop_conditions(jax.random.key(1), c, null, rate)
    is_null = np.asarray(dropped == null)
    np.testing.assert_array_equal(np.asarray(dropped)[~is_null], np.asarray(c)[~is_null])
    assert abs(is_null.mean() - rate) < 4 * np.sqrt(rate * (1 - rate) / n) + 1e-9
    # the loss hands the dropped conditions to the model (Echo's output = its condition)
    x = jnp.zeros((n, 1))
    loss, _ = objectives.denoising_loss(
        {}, {"x": x, "cond": jnp.ones(n, jnp.int32)}, jax.random.key(2), model=Echo(), step=0,
        schedule=schedule.linear(10), condition_dropout=rate, null_condition=0,
    )  # fmt: skip
    # ‖c − ε‖² with c = 1 kept or 0 dropped: E = (1 − rate)·2 + rate·1
    np.testing.assert_allclose(float(loss), 2 - rate, atol=0.05)


@pytest.mark.parametrize("prediction", ["x0", "v"])
def test_loss_regresses_the_parameterisations_target(prediction):
    """A model whose output is the exact target (read from a batch it cannot see otherwise) would
    score 0; here the model outputs 0, so the loss is E‖target‖²/D: E x_0² for x_0, and for v
    = √ᾱ ε − √(1 − ᾱ) x_0 it is E_t[ᾱ + (1 − ᾱ) E x_0²]."""

    class Zero(nn.Module):
        def __call__(self, x, t):
            return jnp.zeros_like(x)

    s = schedule.linear(1000)
    x = jnp.full((100_000, 1), 2.0)
    loss, _ = objectives.denoising_loss(
        {}, {"x": x}, jax.random.key(0), model=Zero(), step=0, schedule=s, prediction=prediction
    )
    ab = np.asarray(s.alpha_bars)
    expected = 4.0 if prediction == "x0" else np.mean(ab + (1 - ab) * 4.0)
    np.testing.assert_allclose(float(loss), expected, rtol=0.02)
