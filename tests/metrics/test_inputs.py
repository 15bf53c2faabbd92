"""Input checks shared by the metrics (`disentax.metrics.inputs`): every public entry point
answers bad input with a one-line UserError before JAX sees it (the table in metric_cases), float
factors are accepted only when they hold integers or are binned on request, and the checks keep
the metrics jittable."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from classifier_cases import IdentityData, identity_representation
from metric_cases import bad_case_inputs, bad_input_cases

from disentax import metrics
from disentax.errors import UserError
from disentax.metrics import inputs


@pytest.mark.parametrize(
    ("name", "call", "case", "spoil", "message"),
    bad_input_cases(),
    ids=[f"{name}-{case}" for name, _, case, _, _ in bad_input_cases()],
)
def test_every_metric_answers_bad_input_with_one_line(name, call, case, spoil, message):
    with pytest.raises(UserError, match=message) as info:
        call(*spoil(*bad_case_inputs()))
    assert "\n" not in str(info.value)


INTERVENTIONAL_SIZES = {
    "beta_vae_score": {"batch_size": 2, "num_train": 4, "num_eval": 4},
    "factor_vae_score": {
        "batch_size": 2,
        "num_train": 4,
        "num_eval": 4,
        "num_variance_estimate": 4,
    },
    "fairness": {"num_train": 8, "num_test_points_per_class": 2},
    "downstream": {"num_train": (8,), "num_test": 8},
}
INTERVENTIONAL_BAD = {
    "dataset": (("abc", identity_representation, jax.random.PRNGKey(0)), "ground-truth dataset"),
    "representation_fn": ((IdentityData(), "abc", jax.random.PRNGKey(0)), "representation_fn"),
    "rng": ((IdentityData(), identity_representation, "abc"), "JAX PRNG key"),
    "rng of several keys": (
        (IdentityData(), identity_representation, jax.random.split(jax.random.PRNGKey(0))),
        "JAX PRNG key",
    ),
    "1-D codes": (
        (IdentityData(), lambda images: images.reshape(-1), jax.random.PRNGKey(0)),
        r"codes \[B, L\]",
    ),
}


@pytest.mark.parametrize("case", INTERVENTIONAL_BAD)
@pytest.mark.parametrize("name", INTERVENTIONAL_SIZES)
def test_interventional_metrics_answer_bad_input_with_one_line(name, case):
    args, message = INTERVENTIONAL_BAD[case]
    with pytest.raises(UserError, match=message) as info:
        getattr(metrics, name)(*args, **INTERVENTIONAL_SIZES[name])
    assert "\n" not in str(info.value)


def test_continuous_factors_are_rejected_or_binned_on_request():
    """The issue's reproduction: random continuous factors and factors = codes gave the same MIG
    (0.0228): each float value was its own label. Now both are a UserError; binned on request,
    copies of the codes score far above independent factors."""
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(2000, 5)).astype(np.float32)
    independent = rng.normal(size=(2000, 3)).astype(np.float32)
    for name in ("mig", "modularity", "infomec"):
        for factors in (independent, codes[:, :3]):
            with pytest.raises(UserError, match=r"needs integer \(discrete\) factors"):
                getattr(metrics, name)(codes, factors)
    copied = metrics.mig(codes, codes[:, :3], discretize_factors=20)["mig"]
    unrelated = metrics.mig(codes, independent, discretize_factors=20)["mig"]
    assert copied > 0.8 and unrelated < 0.05
    binned = np.asarray(metrics.histogram_discretize(independent, 7))
    for name in ("mig", "modularity"):
        np.testing.assert_array_equal(
            getattr(metrics, name)(codes, independent, discretize_factors=7)[name],
            getattr(metrics, name)(codes, binned)[name],
        )


def test_integer_valued_float_factors_equal_integer_factors():
    """Factors stored as floats holding 0, 1, 2 score as the integers, in every kind of metric."""
    rng = np.random.default_rng(1)
    factors = rng.integers(0, 3, (300, 2)).astype(np.int32)
    codes = (factors[:, [0, 1, 0]] + 0.3 * rng.normal(size=(300, 3))).astype(np.float32)
    as_float = factors.astype(np.float32)
    for name in ("mig", "modularity"):
        assert (
            getattr(metrics, name)(codes, as_float)[name]
            == getattr(metrics, name)(codes, factors)[name]
        )
    np.testing.assert_array_equal(
        metrics.sap(codes, as_float, codes, as_float)["sap"],
        metrics.sap(codes, factors, codes, factors)["sap"],
    )


def test_checks_keep_metrics_jittable_and_check_traced_factors_by_dtype():
    rng = np.random.default_rng(2)
    codes = rng.normal(size=(3, 200, 4)).astype(np.float32)
    factors = rng.integers(0, 4, (3, 200, 2)).astype(np.int32)
    looped = [float(metrics.mig(c, f)["mig"]) for c, f in zip(codes, factors, strict=True)]
    np.testing.assert_array_equal(jax.jit(jax.vmap(metrics.mig))(codes, factors)["mig"], looped)
    with pytest.raises(UserError, match="traced float32 values") as info:
        jax.vmap(metrics.mig)(codes, factors.astype(np.float32))
    assert "\n" not in str(info.value)
    binned = jax.jit(jax.vmap(lambda c, f: metrics.mig(c, f, discretize_factors=4)))
    expected = [
        float(metrics.mig(c, np.asarray(metrics.histogram_discretize(f, 4)))["mig"])
        for c, f in zip(codes, codes[..., :2], strict=True)
    ]
    np.testing.assert_allclose(binned(codes, codes[..., :2])["mig"], expected, atol=1e-6)


@pytest.mark.parametrize(
    ("values", "accepted"),
    [
        ([0.0, 1.0, 2.0], True),
        ([0.0, 0.5, 2.0], False),
        ([0.0, np.nan, 1.0], False),
        ([0.0, 1.0, 3e9], False),
    ],
)
def test_discrete_factors_accepts_floats_only_when_they_hold_int32_integers(values, accepted):
    factors = np.asarray(values, np.float32)[:, None]
    if accepted:
        out = inputs.discrete_factors("m", "factors", factors, "hint")
        assert out.dtype == jnp.int32
        np.testing.assert_array_equal(out, factors)
    else:
        with pytest.raises(UserError, match="m needs integer .*; hint$"):
            inputs.discrete_factors("m", "factors", factors, "hint")
