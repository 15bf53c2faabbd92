"""Fuzzing the array metrics: any input gives finite scores or a one-line UserError."""

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disentax.errors import UserError
from disentax.metrics import (
    dci,
    infomec,
    irs,
    mig,
    modularity,
    modularity_explicitness,
    sap,
    unsupervised,
)

# A few shapes only: every new shape or dtype compiles each metric again.
SAMPLES = (1, 3, 25)
CODE_DIMS = (1, 3)
FACTOR_DIMS = (1, 2)
DTYPES = (np.float32, np.float16, np.float64, np.int32)


@st.composite
def code_arrays(draw, n, width):
    """Codes of mixed character per column: constant, few values, wide-range or tiny values,
    with an occasional NaN or ±Inf; cast to a drawn dtype."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    columns = []
    for _ in range(width):
        kind = draw(st.sampled_from(["normal", "constant", "few", "tiny", "huge"]))
        if kind == "constant":
            column = np.full(n, draw(st.floats(-1e6, 1e6)))
        elif kind == "few":
            column = rng.integers(-2, 3, size=n).astype(np.float64)
        else:
            scale = {"normal": 1.0, "tiny": 1e-30, "huge": 1e15}[kind]
            column = scale * rng.normal(size=n)
        columns.append(column)
    codes = np.stack(columns, axis=1)
    if draw(st.integers(0, 5)) == 0:
        codes[draw(st.integers(0, n - 1)), draw(st.integers(0, width - 1))] = draw(
            st.sampled_from([np.nan, np.inf, -np.inf])
        )
    dtype = draw(st.sampled_from(DTYPES))
    with np.errstate(over="ignore", invalid="ignore"):
        return codes.astype(dtype)


@st.composite
def problems(draw):
    n = draw(st.sampled_from(SAMPLES))
    codes = draw(code_arrays(n, draw(st.sampled_from(CODE_DIMS))))
    k = draw(st.sampled_from(FACTOR_DIMS))
    values = draw(st.sampled_from([1, 2, 5]))  # 1: a factor with one value
    seed = draw(st.integers(0, 2**32 - 1))
    factors = np.random.default_rng(seed).integers(0, values, size=(n, k)).astype(np.int32)
    if draw(st.integers(0, 7)) == 0:
        factors = factors[: max(n - 1, 0)]  # mismatched N
    return codes, factors


def finite_input(codes):
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.all(np.isfinite(np.asarray(jax.numpy.asarray(codes)))))


def check(metric, *args, allow_inf=(), **kwargs):
    """Scores are finite (`allow_inf` keys may be +inf, never NaN) or the call raises a one-line
    UserError; any other exception fails the test."""
    try:
        scores = metric(*args, **kwargs)
    except UserError as error:
        assert "\n" not in str(error)
        return None
    for key, value in scores.items():
        value = np.asarray(value, np.float64)
        assert not np.any(np.isnan(value)), f"{metric.__name__}: {key} is NaN"
        if key not in allow_inf:
            assert np.all(np.isfinite(value)), f"{metric.__name__}: {key} is infinite"
    return scores


FUZZ = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@FUZZ
@given(problems())
def test_binned_metrics(problem):
    codes, factors = problem
    for metric in (mig, modularity, irs):
        scores = check(metric, codes, factors)
        if scores is not None:
            assert finite_input(codes) and len(codes) == len(factors)
    scores = check(unsupervised, codes, allow_inf=("gaussian_total_correlation",))
    if scores is not None:
        assert finite_input(codes)
        assert scores["gaussian_total_correlation"] >= -1e-3  # a KL divergence


@FUZZ
@given(problems())
def test_sap_continuous(problem):
    codes, factors = problem
    scores = check(sap, codes, factors, codes, factors, continuous_factors=True)
    if scores is not None:
        assert len(codes) == len(factors)  # NaN codes pass: see test_sap_non_finite_codes


def test_sap_non_finite_codes():
    codes = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    codes[3, 1] = np.nan
    factors = np.random.default_rng(1).integers(0, 3, size=(20, 2)).astype(np.int32)
    for continuous in (True, False):
        with pytest.raises(UserError, match="NaN"):
            sap(codes, factors, codes, factors, continuous_factors=continuous)


@settings(max_examples=5, deadline=None, database=None)
@given(problems(), st.booleans())
def test_infomec(problem, discrete):
    codes, factors = problem
    scores = check(infomec, codes, factors, discrete_latents=discrete)
    if scores is not None:
        assert finite_input(codes) and len(codes) == len(factors)
        for key in ("infom", "infoc"):
            assert -1e-5 <= scores[key] <= 1 + 1e-5


@st.composite
def split_problems(draw):
    """A problem of 25 samples and 3 codes whose factors have exactly 1 or 2 distinct values per
    column (the classifiers compile once per class count), as training and test split."""
    n, width = SAMPLES[-1], CODE_DIMS[-1]
    codes = draw(code_arrays(n, width))
    k = draw(st.sampled_from(FACTOR_DIMS))
    values = draw(st.sampled_from([1, 2]))
    seed = draw(st.integers(0, 2**32 - 1))
    factors = np.random.default_rng(seed).integers(0, values, size=(n, k)).astype(np.int32)
    factors[:values] = np.arange(values)[:, None]
    if draw(st.integers(0, 7)) == 0:
        factors = factors[:-1]  # mismatched N
    return codes, factors


@settings(max_examples=8, deadline=None, database=None)
@given(split_problems())
def test_classifier_metrics(problem):
    codes, factors = problem
    for metric in (dci, modularity_explicitness):
        scores = check(metric, codes, factors, codes, factors)
        if scores is not None:
            assert finite_input(codes) and len(codes) == len(factors)
            for value in scores.values():
                assert np.all((np.asarray(value) >= -1e-5) & (np.asarray(value) <= 1 + 1e-5))
