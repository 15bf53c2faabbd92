"""Passive/mixed/active classification: constructed encoder variances and the paper's code."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.analysis import variable_types
from disentax.errors import UserError


def ref_variables_idx(variances_NxL, var_threshold=0.1, mean_error_range=0.1):
    """bonheml/tc_study `variables_idx` (variables_filter.py), transcribed on `[N, L]` arrays."""
    variances = np.var(variances_NxL, axis=0)
    means = np.mean(variances_NxL, axis=0)
    all_idxs = set(range(variances_NxL.shape[1]))
    low_var = set(np.where(variances < var_threshold)[0])
    zero_mean = set(np.where(means <= mean_error_range)[0])
    one_mean = set(
        np.where(((1 - mean_error_range) <= means) & (means <= (1 + mean_error_range)))[0]
    )
    mixed_means = all_idxs - (zero_mean | one_mean)
    return {
        "passive": low_var & one_mean,
        "active": low_var & zero_mean,
        "mixed": mixed_means | (all_idxs - low_var),
    }


def constructed_logvar(n=1000, seed=0):
    """Six variables of known type: 0, 1 passive; 2, 3 active; 4, 5 mixed."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(-1, 1, size=(n, 6))
    variances = np.stack(
        [
            1.0 + 0.05 * u[:, 0],  # σ² ≈ 1 for every input: the prior
            0.95 + 0.1 * u[:, 1] ** 2,
            0.02 + 0.01 * u[:, 2],  # σ² small for every input
            0.06 + 0.03 * u[:, 3],
            np.where(u[:, 4] > 0, 0.01, 1.0),  # sharp for half the inputs: Var ≈ 0.245
            0.5 + 0.05 * u[:, 5],  # steady, but neither 0 nor 1
        ],
        axis=1,
    )
    return np.log(variances)


def test_constructed_variables_are_classified():
    types = variable_types(constructed_logvar())
    assert np.flatnonzero(types["passive"]).tolist() == [0, 1]
    assert np.flatnonzero(types["active"]).tolist() == [2, 3]
    assert np.flatnonzero(types["mixed"]).tolist() == [4, 5]
    variances = np.exp(constructed_logvar())
    np.testing.assert_allclose(types["variance_mean"], variances.mean(0), rtol=1e-5)
    np.testing.assert_allclose(types["variance_var"], variances.var(0), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("seed", range(4))
def test_matches_the_papers_code(seed):
    """Random encoders whose per-variable variance profiles straddle every threshold."""
    rng = np.random.default_rng(seed)
    n, width = 400, 40
    centre = rng.choice([0.03, 0.1, 0.5, 0.9, 1.0, 1.1, 1.3], size=width)
    spread = rng.choice([0.01, 0.2, 0.5, 1.5], size=width)
    variances = centre * np.exp(spread * rng.normal(size=(n, width)) - spread**2 / 2)
    # thresholds away from float32 ties: nudge every statistic off the boundaries
    types = variable_types(np.log(variances).astype(np.float32))
    means, var = variances.mean(0), variances.var(0)
    near = (np.abs(var - 0.1) < 1e-4) | (np.abs(means - 0.1) < 1e-4) | (np.abs(means - 0.9) < 1e-4)
    near |= np.abs(means - 1.1) < 1e-4
    reference = ref_variables_idx(variances)
    for kind in ("passive", "active", "mixed"):
        got = set(np.flatnonzero(types[kind] & ~near))
        assert got == {i for i in reference[kind] if not near[i]}, kind
    assert len(set().union(*reference.values())) == width  # each variable has one type


def test_types_partition_the_variables_and_vmap_over_models():
    logvars = jnp.stack([constructed_logvar(seed=s) for s in range(3)])
    logvars = logvars.at[1, :, 2].set(0.0)  # model 1's variable 2 is passive (σ² = 1)
    batched = jax.vmap(variable_types)(logvars)
    for m in range(3):
        single = variable_types(logvars[m])
        for key, value in single.items():
            np.testing.assert_array_equal(batched[key][m], value)
    total = batched["passive"].astype(int) + batched["mixed"] + batched["active"]
    assert (total == 1).all()
    assert batched["passive"][1].tolist() == [True, True, True, False, False, False]


def test_thresholds_are_options():
    logvar = np.log(np.tile([0.7, 0.15, 0.5], (10, 1)))  # steady variances: mixed by default
    assert variable_types(logvar)["mixed"].all()
    wide = variable_types(logvar, mean_error_range=0.35)
    assert wide["passive"].tolist() == [True, False, False]
    assert wide["active"].tolist() == [False, True, False]
    bimodal = np.log(np.tile([[0.01], [0.19]], (5, 1)))  # E σ² = 0.1, Var σ² = 0.0081
    assert bool(variable_types(bimodal)["active"][0])
    assert not bool(variable_types(bimodal, var_threshold=0.008)["active"][0])


@pytest.mark.parametrize(
    "logvar, options, match",
    [
        (np.zeros(5), {}, "2-D"),
        (np.zeros((4, 3)), {"mean_error_range": 0.5}, r"\(0, 0.5\)"),
        (np.zeros((4, 3)), {"var_threshold": 0.0}, "positive"),
    ],
)
def test_bad_input_is_a_one_line_user_error(logvar, options, match):
    with pytest.raises(UserError, match=match) as info:
        variable_types(logvar, **options)
    assert "\n" not in str(info.value)
