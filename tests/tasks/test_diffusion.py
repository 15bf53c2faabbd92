"""The DDPM task on the diffusion core: W1 in closed form, a trained model's samples (DDPM and
DDIM), one-line config errors. The core itself: tests/diffusion."""

import dataclasses

import jax
import numpy as np
import pytest

from disentax import config as config_lib
from disentax import diffusion
from disentax.errors import UserError
from disentax.tasks.diffusion import wasserstein_1d
from disentax.train import build, restore_run, train


def test_w1_of_a_shift_is_the_shift():
    a = jax.random.normal(jax.random.PRNGKey(0), (1000, 2))
    np.testing.assert_allclose(wasserstein_1d(a, a + 0.3), 0.3, rtol=1e-5)
    np.testing.assert_allclose(wasserstein_1d(a, a[::-1]), 0.0, atol=1e-7)


def test_a_trained_ddpm_draws_both_modes(tmp_path):
    config = config_lib.load_config("diffusion_1d")
    results = train(config, tmp_path, progress=False)
    assert results["eval/w1"] < 0.15, results  # N(0, 1) against the data: W1 = 1.2
    task, state = restore_run(tmp_path)
    x = np.asarray(task.sample(state.params, jax.random.PRNGKey(1), 4000))
    right = np.mean(x > 0)
    assert 0.4 < right < 0.6
    near = np.abs(np.abs(x) - config.data.separation / 2) < 3 * config.data.mode_std
    assert near.mean() > 0.9
    # eval.sampler "ddim" samples by the core's DDIM from the model's ε̂
    ddim = dataclasses.replace(task, config=_with_sampler(task.config, "ddim", 20))
    key = jax.random.PRNGKey(2)
    eps_fn = diffusion.denoiser(task.model, state.params, task.schedule)
    direct = diffusion.ddim_sample(eps_fn, task.schedule, jax.random.normal(key, (64, 1)), 20)
    np.testing.assert_allclose(ddim.sample(state.params, key, 64), direct, atol=1e-6)


def _with_sampler(config, sampler, steps):
    config = config.copy_and_resolve_references()
    config.eval.sampler, config.eval.sampler_steps = sampler, steps
    return config


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("diffusion.beta_end", 1.5, "0 < beta_start <= beta_end < 1"),
        (
            "diffusion.schedule",
            "sigmoid",
            "schedule 'sigmoid'; known: linear, cosine",
        ),
        ("diffusion.prediction", "score", "unknown prediction 'score'; known: epsilon, x0, v"),
        ("eval.sampler", "euler", "unknown eval.sampler 'euler'; known: ddpm, ddim"),
    ],
)
def test_bad_diffusion_config_is_a_one_line_error(field, value, match):
    config = config_lib.load_config("diffusion_1d:tiny")
    section, name = field.split(".")
    config[section][name] = value
    with pytest.raises(UserError, match=match):
        build(config)
