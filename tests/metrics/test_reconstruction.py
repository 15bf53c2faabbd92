"""PSNR against its closed form, the QLAE code's formula (transcribed), and its invariants."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.errors import UserError
from disentax.metrics import psnr


def ref_peak_signal_to_noise_ratio(x_hat_logits, x_true):
    """kylehkhsu/latent_quantization `disentangle/metrics/reconstruction.py`, in numpy float64."""
    x_hat = 1 / (1 + np.exp(-np.asarray(x_hat_logits, np.float64)))
    mse = np.mean(np.square(x_hat - np.asarray(x_true, np.float64)))
    return 20 * np.log10(1.0) - 10 * np.log10(mse)


def test_constant_error_gives_the_closed_form():
    images = jnp.zeros((3, 4, 4, 1))
    errors = jnp.array([0.1, 0.01, 0.5])[:, None, None, None]
    got = psnr(images + errors, images)
    np.testing.assert_allclose(got, -20 * np.log10([0.1, 0.01, 0.5]), rtol=1e-5)
    np.testing.assert_allclose(got, [20.0, 40.0, 6.0206], rtol=1e-4)


def test_matches_the_qlae_code_per_image():
    rng = np.random.default_rng(0)
    logits = 3 * rng.normal(size=(5, 8, 8, 3)).astype(np.float32)
    images = rng.uniform(size=(5, 8, 8, 3)).astype(np.float32)
    got = psnr(jax.nn.sigmoid(logits), images)
    expected = [ref_peak_signal_to_noise_ratio(lg, x) for lg, x in zip(logits, images, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_max_value_shifts_by_twenty_log10():
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(2, 6, 6)).astype(np.float32)
    y = x + 0.05 * rng.normal(size=x.shape).astype(np.float32)
    np.testing.assert_allclose(
        psnr(255 * y, 255 * x, max_value=255.0), psnr(y, x), rtol=1e-5, atol=1e-4
    )
    np.testing.assert_allclose(psnr(y, x, max_value=2.0) - psnr(y, x), 20 * np.log10(2), rtol=1e-5)


def test_exact_reconstruction_is_infinite_and_jit_agrees():
    x = np.random.default_rng(3).uniform(size=(2, 4, 4, 1)).astype(np.float32)
    assert np.all(np.isinf(psnr(x, x)))
    y = x + 0.1
    np.testing.assert_allclose(jax.jit(psnr)(y, x), psnr(y, x), rtol=1e-6)


@pytest.mark.parametrize(
    ("reconstructions", "images", "max_value"),
    [
        (jnp.zeros((2, 4)), jnp.zeros((2, 5)), 1.0),
        (jnp.zeros(4), jnp.zeros(4), 1.0),
        (jnp.zeros((2, 4)), jnp.zeros((2, 4)), 0.0),
    ],
)
def test_bad_input_is_a_user_error(reconstructions, images, max_value):
    with pytest.raises(UserError, match="psnr|max_value"):
        psnr(reconstructions, images, max_value=max_value)


def test_training_evaluation_reports_psnr(finished_run):
    # `train/evaluate.py` adds the mean PSNR of sigmoid(logits) of fresh batches: images in
    # [0, 1] and reconstructions in (0, 1) give an MSE in (0, 1), so a finite positive value.
    _, _, metrics = finished_run
    assert 0.0 < metrics["eval/psnr"] < 100.0
