"""t-intervals: closed forms, the QLAE tables' rule (transcribed), coverage, and input checks."""

import numpy as np
import pytest

from disentax.analysis import format_interval, t_interval
from disentax.errors import UserError

# Two-sided 95 % Student t quantiles, from printed tables (the QLAE code's `t_values` for 6, 27).
T_975 = {2: 4.303, 6: 2.447, 27: 2.052}


def ref_qlae_ci95(values):
    """kylehkhsu/latent_quantization `scripts/tables.py`: t[dof] · np.std(x) / √n, np.std with
    ddof 0 as numpy passes it to pandas."""
    values = np.asarray(values, np.float64)
    return T_975[len(values) - 1] * np.std(values) / np.sqrt(len(values))


def test_three_seeds_closed_form():
    mean, half = t_interval([1.0, 2.0, 3.0])
    assert mean == pytest.approx(2.0)
    assert half == pytest.approx(4.303 * 1.0 / np.sqrt(3), abs=1e-3)


@pytest.mark.parametrize("n", [7, 28])
def test_ddof0_is_the_qlae_tables_rule(n):
    values = np.random.default_rng(n).normal(0.5, 0.1, n)
    _, half = t_interval(values, ddof=0)
    assert half == pytest.approx(ref_qlae_ci95(values), rel=1e-3)
    _, textbook = t_interval(values)
    assert textbook == pytest.approx(half * np.sqrt(n / (n - 1)), rel=1e-9)


def test_axis_and_shapes():
    values = np.arange(12.0).reshape(3, 4)
    mean, half = t_interval(values, axis=0)
    assert mean.shape == half.shape == (4,)
    np.testing.assert_allclose(mean, values.mean(0))
    np.testing.assert_allclose(half, 4.303 * values.std(0, ddof=1) / np.sqrt(3), rtol=1e-3)
    mean_rows, _ = t_interval(values, axis=1)
    np.testing.assert_allclose(mean_rows, values.mean(1))


def test_covers_the_true_mean_at_the_stated_rate():
    samples = np.random.default_rng(0).normal(1.0, 2.0, size=(4000, 5))
    mean, half = t_interval(samples, axis=1, confidence=0.9)
    coverage = np.mean(np.abs(mean - 1.0) <= half)
    assert coverage == pytest.approx(0.9, abs=0.02)


def test_identical_values_have_zero_width():
    mean, half = t_interval([0.3, 0.3, 0.3])
    assert mean == pytest.approx(0.3) and half == 0.0


def test_format():
    assert format_interval(0.7134, 0.0451) == "0.71 ± 0.05"
    assert format_interval(21.06, 0.4, digits=1) == "21.1 ± 0.4"


@pytest.mark.parametrize(
    ("values", "kwargs", "match"),
    [
        (1.0, {}, "scalar"),
        ([1.0], {}, "at least 2"),
        ([1.0, 2.0], {"confidence": 1.0}, "confidence"),
        ([1.0, 2.0], {"ddof": 2}, "ddof"),
        ([1.0, np.nan], {}, "finite"),
        ([1.0, 2.0], {"axis": 1}, "axis"),
    ],
)
def test_bad_input_is_a_user_error(values, kwargs, match):
    with pytest.raises(UserError, match=match):
        t_interval(values, **kwargs)
