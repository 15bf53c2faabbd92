"""P51's mechanism: the closed forms against quadrature, the ODE and a direct simulation of the
whole model by gradient descent; balancedness under gradient descent; the full batch's
compression; the generative models' moments; and the `smoke` run through the training core."""

import itertools
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy.integrate import solve_ivp

from disentax import config as config_lib
from experiments.p51_jepa_implicit_bias import claims, main, task, theory

CONFIG = "experiments.p51_jepa_implicit_bias.config"
CASES = [("jepa", 1), ("jepa", 2), ("jepa", 4), ("mae", 1), ("mae", 3)]


def exact_pairs(lam, sigma2) -> dict:
    """The 2d pseudo-pairs of exactly diagonal moments: E[xxᵀ] = E[yyᵀ] = diag(σ²),
    E[yxᵀ] = diag(λ) (what `task.compress` makes of an infinite sample)."""
    d = len(lam)
    m = np.block([[np.diag(sigma2), np.diag(lam)], [np.diag(lam), np.diag(sigma2)]])
    w, u = np.linalg.eigh(m)
    p = np.sqrt(2 * d) * (u * np.sqrt(w)) @ u.T
    return {"x": jnp.asarray(p[:, :d], jnp.float32), "y": jnp.asarray(p[:, d:], jnp.float32)}


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_the_jepa_closed_form_is_the_integral_of_the_ode(depth):
    for lam, rho in [(1.0, 0.7), (0.3, 0.95)]:
        closed = theory.critical_time("jepa", lam, rho, depth, 1e-3)
        a0 = 1e-3 ** (1 / depth)
        target = rho * 0.5 ** (1 / depth)
        assert closed == pytest.approx(theory.time_to("jepa", lam, rho, depth, a0, target), 1e-8)


@pytest.mark.parametrize("objective, depth", CASES)
def test_the_critical_time_is_when_the_integrated_ode_crosses_half_the_limit(objective, depth):
    lam, rho, eps = 0.8, 0.9, 3e-3
    predicted = theory.critical_time(objective, lam, rho, depth, eps)
    limit = theory.gain_limit(objective, rho, depth)
    solution = solve_ivp(
        lambda t, a: theory.rate(objective, a, lam, rho, depth),
        (0, 2 * predicted),
        [eps ** (1 / depth)],
        events=lambda t, a: a[0] ** depth - 0.5 * limit,
        rtol=1e-10,
        atol=1e-14,
    )
    assert solution.t_events[0][0] == pytest.approx(predicted, rel=1e-6)
    assert solution.y[0, -1] ** depth == pytest.approx(limit, rel=0.05)  # converging to it


def test_small_init_leaves_only_lambda_and_depth_amplifies_rho():
    """ε → 0: t* → the ρ-free leading term; at fixed ε the high-ρ feature gains with depth."""
    for objective, depth in CASES:
        for rho in (0.6, 0.95):
            ratio = theory.critical_time(objective, 1.0, rho, depth, 1e-9) / theory.leading_time(
                objective, 1.0, depth, 1e-9
            )
            assert ratio == pytest.approx(1.0, abs=0.03 if depth > 1 else 0.1)
    ratios = [
        theory.critical_time("jepa", 1.0, 0.7, L, 3e-3)
        / theory.critical_time("jepa", 1.0, 0.95, L, 3e-3)
        for L in range(1, 6)
    ]
    assert all(b > a for a, b in itertools.pairwise(ratios)) and ratios[0] > 1


@pytest.mark.parametrize("objective, depth", CASES)
def test_the_corrected_closed_form_counts_the_gradient_descent_steps(objective, depth):
    lr = 1.0 if objective == "jepa" else 0.05
    steps = theory.critical_steps(objective, 1.0, 0.7, depth, 3e-3, lr)
    assert steps == pytest.approx(theory.map_steps(objective, 1.0, 0.7, depth, 3e-3, lr), 1e-3)


def model_params(depth, dim, seed, eps=3e-3):
    model = task.DeepLinear(depth, dim, eps)
    return model, model.init(jax.random.PRNGKey(seed), jnp.zeros((1, dim)))["params"]


@pytest.mark.parametrize("objective", theory.OBJECTIVES)
def test_the_gradient_on_each_feature_is_the_scalar_ode(objective):
    """At layers diag(a) and V = diag(a), −∂L/∂W_l[i, i] = −∂L/∂V[i, i] = ȧ(a_i)."""
    lam, sigma2, depth = np.array([1.0, 0.9]), np.array([1.4, 0.95]), 3
    a = jnp.array([0.3, 0.5])
    params = {"layers": jnp.stack([jnp.diag(a)] * depth), "predictor": jnp.diag(a)}
    model = task.DeepLinear(depth, 2, 1e-3)
    grads = jax.grad(
        lambda p: task.LOSSES[objective](p, exact_pairs(lam, sigma2), None, model=model, step=0)[0]
    )(params)
    want = theory.rate(objective, np.asarray(a), lam, lam / sigma2, depth)
    for layer in range(depth):
        np.testing.assert_allclose(-jnp.diag(grads["layers"][layer]), want, rtol=1e-5)
    np.testing.assert_allclose(-jnp.diag(grads["predictor"]), want, rtol=1e-5)


def gradient_descent(objective, params, model, batch, lr, num_steps):
    """`num_steps` of θ ← θ − lr ∇L (`optax.sgd`, as the task's optimizer), the gains logged."""
    tx = optax.sgd(lr)

    def step(carry, _):
        p, opt = carry
        (_, metrics), g = jax.value_and_grad(task.LOSSES[objective], has_aux=True)(
            p, batch, None, model=model, step=0
        )
        updates, opt = tx.update(g, opt, p)
        return (optax.apply_updates(p, updates), opt), (
            metrics["gain/0"],
            metrics["gain/1"],
            metrics["balance"],
        )

    (params, _), logged = jax.lax.scan(step, (params, tx.init(params)), None, length=num_steps)
    return params, [np.asarray(x) for x in logged]


def aligned_params(depth, dim, eps=3e-3, off_diagonal=0.0):
    """The balanced start with identity hidden rotations (exactly decoupled in float32), plus
    `off_diagonal` at W_1[0, 1] (a seed of mixing feature 1 into latent 0)."""
    a0 = eps ** (1 / depth)
    layers = jnp.stack([a0 * jnp.eye(dim)] * depth).at[0, 0, 1].add(off_diagonal)
    return {"layers": layers, "predictor": a0 * jnp.eye(dim)}


@pytest.mark.parametrize("objective, depth", [("jepa", 2), ("mae", 3)])
def test_gradient_descent_on_the_whole_model_meets_the_closed_form(objective, depth):
    """Direct simulation (exact moments, decoupled start): each feature's gain crosses half its
    limit at the closed form's step, and balancedness holds throughout."""
    lam, rho = np.array([1.0, 0.9]), np.array([0.7, 0.95])
    lr = 1.0 if objective == "jepa" else 0.05
    predicted = [
        theory.critical_steps(objective, lm, r, depth, 3e-3, lr)
        for lm, r in zip(lam, rho, strict=True)
    ]
    model = task.DeepLinear(depth, 2, 3e-3)
    steps = int(1.2 * max(predicted))
    batch = exact_pairs(lam, lam / rho)
    _, (g0, g1, balance) = gradient_descent(
        objective, aligned_params(depth, 2), model, batch, lr, steps
    )
    for i, gains in enumerate((g0, g1)):
        level = 0.5 * theory.gain_limit(objective, rho[i], depth)
        measured = theory.crossing_time(np.arange(steps), gains, level)
        assert measured == pytest.approx(predicted[i], rel=2e-3)
    assert balance.max() < 1e-5


def test_a_jepa_latent_turns_to_the_higher_rho_feature_once_its_own_is_learned():
    """Beyond the decoupled theory: off the diagonal, ∂L/∂W̄_01 ∝ v_0 (v_0 − ρ_1), so once latent 0
    has learned feature 0 (v_0 → ρ_0 < ρ_1) a seed of feature 1 in it grows under JEPA; MAE's
    off-diagonal gradient has no such term and the seed stays small (NOTES.md)."""
    lam, rho, depth = np.array([1.0, 0.9]), np.array([0.7, 0.95]), 2
    batch = exact_pairs(lam, lam / rho)
    mixing = {}
    for objective, lr, steps in [("jepa", 1.0, 3000), ("mae", 0.05, 600)]:
        model = task.DeepLinear(depth, 2, 3e-3)
        start = aligned_params(depth, 2, off_diagonal=1e-6)
        end, _ = gradient_descent(objective, start, model, batch, lr, steps)
        w = np.asarray(task.product(end["layers"]))
        mixing[objective] = abs(w[0, 1]) / abs(w[0, 0])
    assert mixing["jepa"] > 1.0 and mixing["mae"] < 1e-3


def test_balancedness_is_conserved_under_gradient_descent_to_second_order():
    """From an unbalanced start the defect W_{a+1}ᵀW_{a+1} − W_a W_aᵀ stays as it was: it drifts
    O(lr²) a step, so over the same time (steps × lr) the drift halves with lr (gradient flow
    conserves it exactly), while the weights move."""
    model = task.DeepLinear(3, 2, 0.1)
    key = jax.random.PRNGKey(0)
    params = {
        "layers": 0.5 * jax.random.normal(key, (3, 2, 2)),
        "predictor": 0.5 * jax.random.normal(jax.random.fold_in(key, 1), (2, 2)),
    }
    batch = exact_pairs(np.array([1.0, 0.9]), np.array([1.4, 0.95]))

    def defects(p):
        ws = [*p["layers"], p["predictor"]]
        return np.stack([b.T @ b - a @ a.T for a, b in itertools.pairwise(ws)])

    drifts = []
    for lr, num_steps in [(0.02, 200), (0.01, 400)]:
        end, _ = gradient_descent("jepa", params, model, batch, lr, num_steps)
        moved = jax.tree.map(lambda a, b: np.abs(a - b).max(), end, params)
        assert max(jax.tree.leaves(moved)) > 0.02
        drifts.append(np.abs(defects(end) - defects(params)).max())
    assert drifts[1] < 0.6 * drifts[0] and drifts[0] < 0.02


def test_the_compressed_batch_has_the_full_batch_loss_and_gradient():
    config = config_lib.load_config(f"{CONFIG}:objective=jepa,depth=3,smoke")
    full = task.sample_pairs(jax.random.PRNGKey(3), config.data, 4096)
    small = task.compress(full)
    assert small["x"].shape == (4, 2)
    model, params = model_params(3, 2, seed=2, eps=0.5)
    for objective in theory.OBJECTIVES:
        loss = jax.value_and_grad(
            lambda p, b, objective=objective: task.LOSSES[objective](
                p, b, None, model=model, step=0
            )[0]
        )
        (l_full, g_full), (l_small, g_small) = loss(params, full), loss(params, small)
        assert float(l_small) == pytest.approx(float(l_full), rel=1e-4)
        for a, b in zip(jax.tree.leaves(g_small), jax.tree.leaves(g_full), strict=True):
            np.testing.assert_allclose(a, b, rtol=2e-3, atol=1e-6)


@pytest.mark.parametrize("data", theory.DATA_MODELS)
def test_the_generative_models_have_the_configured_moments(data):
    config = config_lib.load_config(f"{CONFIG}:data={data}")
    pairs = task.sample_pairs(jax.random.PRNGKey(0), config.data, 400_000)
    x, y = np.asarray(pairs["x"], np.float64), np.asarray(pairs["y"], np.float64)
    from experiments.p51_jepa_implicit_bias.config import FEATURES

    np.testing.assert_allclose((x * y).mean(0), FEATURES[data]["lam"], rtol=0.02)
    np.testing.assert_allclose((x * y).mean(0) / (x * x).mean(0), FEATURES[data]["rho"], rtol=0.02)
    assert abs(np.mean(x[:, 0] * y[:, 1])) < 0.01  # the features are independent


def test_the_smoke_run_trains_through_the_core_and_writes_its_results(tmp_path):
    out = tmp_path / "smoke.json"
    results = main.run("smoke", tmp_path / "work", out, progress=False)
    saved = json.loads(out.read_text())
    assert saved["setting"] == "smoke" and saved["seeds"] == [0]
    assert {(r["objective"], r["depth"]) for r in saved["members"]} == {("jepa", 2), ("mae", 2)}
    assert set(saved["versions"]) >= {"jax", "flax", "optax"} and saved["commit"]
    assert out.with_suffix(".png").is_file()
    for r in results["members"]:  # 20 steps: nothing learned yet, still balanced and finite
        assert all(math.isinf(t) for t in r["t_measured"]) and r["max_balance_defect"] < 1e-6
        assert all(0 < g < 0.01 for g in r["final_gain"])
    assert set(claims.check(results)) == set(claims.CLAIMS)
