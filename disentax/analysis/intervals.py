"""Confidence intervals over seeds with Student's t-distribution, as the QLAE paper's tables."""

import numpy as np
from scipy import stats

from disentax.errors import UserError


def t_interval(values, *, confidence: float = 0.95, ddof: int = 1, axis: int = 0):
    """(mean, half-width) of the t-interval of the mean of n values along `axis`:
    mean ± t_{(1+confidence)/2, n−1} · s / √n, with s = √(Σ (x − mean)² / (n − ddof)).

    `ddof=1` is the textbook sample standard deviation; the QLAE code's `scripts/tables.py`
    divides `np.std` of a pandas group (ddof 0) by √n, an interval √((n−1)/n) times this one.
    Shapes: `values [..., n, ...] -> (mean, half_width)`, both without `axis`. NumPy, float64.
    """
    values = np.asarray(values, np.float64)
    if values.ndim == 0:
        raise UserError("t_interval needs an array of values over seeds, got a scalar")
    if not -values.ndim <= axis < values.ndim:
        raise UserError(f"axis must be in [{-values.ndim}, {values.ndim}), got {axis}")
    n = values.shape[axis]
    if n < 2:
        raise UserError(f"t_interval needs at least 2 values along axis {axis}, got {n}")
    if not 0.0 < confidence < 1.0:
        raise UserError(f"confidence must be in (0, 1), got {confidence!r}")
    if ddof not in (0, 1):
        raise UserError(f"ddof must be 0 or 1, got {ddof!r}")
    if not np.all(np.isfinite(values)):
        raise UserError("t_interval needs finite values (no NaN or Inf)")
    mean = np.mean(values, axis=axis)
    spread = np.std(values, axis=axis, ddof=ddof) / np.sqrt(n)
    return mean, stats.t.ppf(0.5 + confidence / 2, n - 1) * spread


def format_interval(mean: float, half_width: float, digits: int = 2) -> str:
    """`"mean ± half_width"` with `digits` decimals, e.g. `"0.71 ± 0.05"`."""
    return f"{mean:.{digits}f} ± {half_width:.{digits}f}"
