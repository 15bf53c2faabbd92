import functools
import math

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from disentax import data
from disentax.errors import UserError
from disentax.models import MODELS
from disentax.objectives import (
    OBJECTIVES,
    capacity_schedule,
    covariance_z_mean,
    dip_regularizer,
    total_correlation,
)
from disentax.train.build import bind_objective

NEW_OBJECTIVES = ("annealed_vae", "dip_vae", "dip_vae_i", "dip_vae_ii", "beta_tc_vae", "ae")


# ---- independent NumPy transcriptions of disentanglement_lib's formulas (float64) ----


def np_recon(logits, x):
    bce = np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))
    return float(np.mean(np.sum(bce.reshape(len(x), -1), axis=1)))


def np_kl(mu, logvar):
    return float(np.mean(0.5 * np.sum(mu**2 + np.exp(logvar) - logvar - 1, axis=1)))


def np_dip_penalty(mu, logvar, lambda_od, lambda_d, dip_type):
    b, n = mu.shape
    mean = mu.mean(0)
    cov = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            cov[i, j] = sum(mu[k, i] * mu[k, j] for k in range(b)) / b - mean[i] * mean[j]
    if dip_type == "ii":
        cov += np.diag(np.exp(logvar).mean(0))
    off = sum(cov[i, j] ** 2 for i in range(n) for j in range(n) if i != j)
    diag = sum((cov[i, i] - 1) ** 2 for i in range(n))
    return lambda_od * off + lambda_d * diag


def np_tc(z, mu, logvar, estimator="minibatch", n=None):
    """Loops: E_j[log Σ_i w_ji Π_l q(z_jl|x_i) − Σ_l log Σ_i w_ji q(z_jl|x_i)]."""
    b, dims = mu.shape

    def w(j, i):
        if estimator == "minibatch":
            return 1.0
        if estimator == "mws":
            return 1.0 / (b * n)
        m = b - 1
        if i == j:
            return 1.0 / n
        if i == (j + 1) % b:
            return (n - m) / (n * m)
        return 1.0 / m

    def q(j, i, d):
        var = math.exp(logvar[i, d])
        return math.exp(-((z[j, d] - mu[i, d]) ** 2) / (2 * var)) / math.sqrt(2 * math.pi * var)

    total = 0.0
    for j in range(len(z)):
        joint = sum(w(j, i) * math.prod(q(j, i, d) for d in range(dims)) for i in range(b))
        marginals = sum(math.log(sum(w(j, i) * q(j, i, d) for i in range(b))) for d in range(dims))
        total += math.log(joint) - marginals
    return total / len(z)


# ---- closed forms ----


def test_capacity_schedule_values():
    c = capacity_schedule(25.0, 100000)
    steps = jnp.array([0, 1, 50000, 100000, 300000])
    np.testing.assert_allclose(jax.jit(c)(steps), [0.0, 25e-5, 12.5, 25.0, 25.0], rtol=1e-6)
    assert float(c(10**6)) == 25.0


def test_dip_penalties_vanish_for_identity_covariance():
    mu = math.sqrt(2.0) * jnp.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]) + 3.0
    np.testing.assert_allclose(covariance_z_mean(mu), np.eye(2), atol=1e-5)
    np.testing.assert_allclose(dip_regularizer(jnp.eye(3), 2.0, 20.0), [0.0, 0.0])
    cov = jnp.array([[2.0, 0.5], [0.5, 1.0]])  # off: 2·0.25, diag: (2 − 1)²
    np.testing.assert_allclose(dip_regularizer(cov, 2.0, 3.0), [1.0, 3.0])


def test_covariance_is_biased_estimator():
    mu = np.random.default_rng(0).normal(size=(7, 3))
    np.testing.assert_allclose(
        covariance_z_mean(jnp.asarray(mu)), np.cov(mu.T, bias=True), atol=1e-5
    )


@pytest.mark.parametrize("estimator", ["minibatch", "mws", "mss"])
def test_total_correlation_matches_brute_force(estimator):
    rng = np.random.default_rng(1)
    mu, logvar = rng.normal(size=(5, 3)), 0.5 * rng.normal(size=(5, 3))
    z = mu + np.exp(logvar / 2) * rng.normal(size=(5, 3))
    fn = jax.jit(functools.partial(total_correlation, estimator=estimator, dataset_size=1000))
    got = fn(*(jnp.asarray(a, jnp.float32) for a in (z, mu, logvar)))
    np.testing.assert_allclose(got, np_tc(z, mu, logvar, estimator, 1000), atol=1e-5)
    grads = jax.jit(jax.grad(fn, argnums=(0, 1, 2)))(
        *(jnp.asarray(a, jnp.float32) for a in (z, mu, logvar))
    )
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads)


tc_jit = jax.jit(total_correlation, static_argnames=("estimator", "dataset_size"))


def test_total_correlation_closed_forms():
    b, dims, n = 6, 3, 1000
    mu = jnp.tile(jnp.array([[0.3, -1.0, 2.0]]), (b, 1))  # identical codes: q(z) factorises
    logvar = jnp.tile(jnp.array([[0.1, -0.5, 0.0]]), (b, 1))
    z = mu + jnp.asarray(np.random.default_rng(0).normal(size=mu.shape), jnp.float32)
    # The normalised estimate is 0; the minibatch one drops −(L − 1)·log B, MWS adds (L − 1)·log N.
    np.testing.assert_allclose(tc_jit(z, mu, logvar), -(dims - 1) * math.log(b), 1e-5)
    np.testing.assert_allclose(
        tc_jit(z, mu, logvar, estimator="mws", dataset_size=n),
        (dims - 1) * math.log(n),
        rtol=1e-5,
    )
    assert float(tc_jit(z[:1], mu[:1], logvar[:1])) == pytest.approx(0.0, abs=1e-6)


def test_total_correlation_nonnegative_in_expectation():
    mu = jnp.array([[-2.0, -2.0], [2.0, 2.0], [0.0, 0.0]])  # correlated mixture: TC > 0
    logvar = jnp.zeros_like(mu)
    rng = np.random.default_rng(0)
    noise = jnp.asarray(rng.normal(size=(20000, 2)), jnp.float32)
    z = mu[rng.integers(0, 3, 20000)] + noise
    tc = float(tc_jit(z, mu, logvar)) + math.log(3)  # the normalised estimate
    assert tc > 0.1
    # A factorised mixture (a 2 × 2 grid of equal components) has TC ≈ 0.
    grid = jnp.array([[-2.0, -2.0], [-2.0, 2.0], [2.0, -2.0], [2.0, 2.0]])
    z = grid[rng.integers(0, 4, 20000)] + noise
    tc = float(tc_jit(z, grid, jnp.zeros_like(grid))) + math.log(4)
    assert abs(tc) < 0.02


def test_bad_options_are_one_line_user_errors():
    z = jnp.zeros((4, 2))
    for kwargs in ({"estimator": "exact"}, {"estimator": "mws"}, {"estimator": "mss"}):
        with pytest.raises(UserError) as e:
            total_correlation(z, z, z, **kwargs)
        assert "\n" not in str(e.value)
    with pytest.raises(UserError, match="dip_type") as e:
        OBJECTIVES.get("dip_vae")(None, {"image": z}, None, model=None, step=0, dip_type="iii")
    assert "\n" not in str(e.value)


# ---- the losses on model outputs ----


@pytest.fixture(scope="module")
def setup():
    model = MODELS.get("tiny_conv_vae")(num_latents=4)
    images, _ = data.sample(data.get("dsprites_procedural"), jax.random.PRNGKey(3), 16)
    # Non-partitionable threefry compiles the init ~7x faster on CPU (a test-time shortcut only).
    with jax.threefry_partitionable(False):
        params = jax.jit(model.init)(jax.random.PRNGKey(0), images)["params"]
    rng = jax.random.PRNGKey(2)
    logits, aux = model.apply({"params": params}, images, train=True, rngs={"latent": rng})
    outs = {k: np.asarray(v, np.float64) for k, v in {"logits": logits, **aux}.items()}
    outs["x"] = np.asarray(images, np.float64)
    return model, params, {"image": images}, rng, outs


_jitted = {}


def run(name, setup, step=0, **hparams):
    """The jitted loss on the fixture's batch and rng (compiled once per name and hparams)."""
    model, params, batch, rng, _ = setup
    key = (name, tuple(sorted(hparams.items())))
    if key not in _jitted:
        _jitted[key] = jax.jit(functools.partial(OBJECTIVES.get(name), model=model, **hparams))
    return _jitted[key](params, batch, rng, step=step)


@pytest.mark.parametrize("step", [0, 40000, 250000])
def test_annealed_vae_matches_numpy(setup, step):
    o = setup[-1]
    loss, m = run("annealed_vae", setup, step, gamma=1000.0, c_max=25.0, iteration_threshold=1e5)
    recon, kl = np_recon(o["logits"], o["x"]), np_kl(o["mu"], o["logvar"])
    capacity = min(25.0, 25.0 * step / 1e5)
    np.testing.assert_allclose(m["loss/capacity"], capacity, rtol=1e-6)
    np.testing.assert_allclose(
        [m["loss/reconstruction"], m["loss/kl"]], [recon, kl], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(loss, recon + 1000.0 * abs(kl - capacity), rtol=1e-5)


@pytest.mark.parametrize("name, dip_type", [("dip_vae_i", "i"), ("dip_vae_ii", "ii")])
def test_dip_vae_matches_numpy(setup, name, dip_type):
    o = setup[-1]
    loss, m = run(name, setup, lambda_od=2.0, lambda_d_factor=5.0)
    recon, kl = np_recon(o["logits"], o["x"]), np_kl(o["mu"], o["logvar"])
    penalty = np_dip_penalty(o["mu"], o["logvar"], 2.0, 10.0, dip_type)
    np.testing.assert_allclose(
        float(m["loss/dip_off_diagonal"] + m["loss/dip_diagonal"]), penalty, rtol=1e-5
    )
    np.testing.assert_allclose(loss, recon + kl + penalty, rtol=1e-5)
    loss_generic, _ = run("dip_vae", setup, lambda_od=2.0, lambda_d_factor=5.0, dip_type=dip_type)
    np.testing.assert_allclose(loss_generic, loss, rtol=1e-6)


@pytest.mark.parametrize("estimator", ["minibatch", "mws", "mss"])
def test_beta_tc_vae_matches_numpy(setup, estimator):
    o = setup[-1]
    loss, m = run("beta_tc_vae", setup, beta=6.0, estimator=estimator, dataset_size=737280)
    recon, kl = np_recon(o["logits"], o["x"]), np_kl(o["mu"], o["logvar"])
    tc = np_tc(o["z"], o["mu"], o["logvar"], estimator, 737280)
    np.testing.assert_allclose(m["loss/tc"], tc, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(loss, recon + kl + 5.0 * tc, rtol=1e-5)


def test_ae_is_deterministic_reconstruction_of_mean(setup):
    model, params, batch, _, _ = setup
    logits, aux = model.apply({"params": params}, batch["image"], train=False)
    x = np.asarray(batch["image"], np.float64)
    loss, m = run("ae", setup)
    np.testing.assert_allclose(loss, np_recon(np.asarray(logits, np.float64), x), rtol=1e-5)
    assert set(m) == {"loss", "loss/reconstruction"}
    other, _ = jax.jit(functools.partial(OBJECTIVES.get("ae"), model=model, step=3))(
        params, batch, jax.random.PRNGKey(99)
    )
    assert float(other) == float(loss)


# ---- registry-wide: bindable, finite gradients, loss decreases ----

TRAIN_CASES = [
    ("annealed_vae", {"c_max": 5.0}),
    ("dip_vae_i", {"lambda_od": 10.0}),
    ("dip_vae_ii", {"lambda_od": 10.0, "lambda_d_factor": 1.0}),
    ("beta_tc_vae", {"beta": 6.0}),
    ("ae", {}),
]


def test_every_new_objective_is_registered():
    assert set(NEW_OBJECTIVES) <= set(OBJECTIVES)
    assert {name for name, _ in TRAIN_CASES} | {"dip_vae"} == set(NEW_OBJECTIVES)


@pytest.mark.parametrize("name, hparams", TRAIN_CASES)
def test_objective_trains(setup, name, hparams):
    model, params, batch, rng, _ = setup
    loss_fn = bind_objective(ml_collections.ConfigDict({"name": name, **hparams}), model)
    tx = optax.adam(1e-3)

    @jax.jit
    def update(p, opt, key):
        (loss, _), g = jax.value_and_grad(loss_fn, has_aux=True)(p, batch, key, step=0)
        finite = jnp.all(jnp.array([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(g)]))
        updates, opt = tx.update(g, opt, p)
        return optax.apply_updates(p, updates), opt, loss, finite

    p, opt = params, tx.init(params)
    losses = []
    for i in range(30):
        # The first call uses `rng`, so its loss is the starting loss on that fixed noise.
        p, opt, loss, finite = update(p, opt, jax.random.fold_in(rng, i) if i else rng)
        assert bool(finite) and np.isfinite(float(loss))
        losses.append(float(loss))
    _, _, after, _ = update(p, opt, rng)
    assert float(after) < losses[0]
