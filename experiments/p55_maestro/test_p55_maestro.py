"""P55's mechanism in closed forms: ordered dropout's sampling distribution, the hierarchical group
lasso and its gradient, the layer at full rank as its dense product, truncation as the leading
factors (and the SVD split as Eckart–Young), progressive shrinking as masking; the config."""

import collections

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from disentax import config as config_lib
from disentax.errors import UserError
from experiments.p55_maestro import config, layers


def _params(d=5, n=4, seed=0, rank=None, bias=True):
    layer = layers.MaestroDense(n, rank=rank, use_bias=bias)
    params = layer.init(jax.random.PRNGKey(seed), jnp.zeros((1, d)))["params"]
    if bias:
        params = {**params, "bias": jax.random.normal(jax.random.PRNGKey(seed + 1), (n,))}
    return layer, params


# --- ordered dropout


def test_the_per_layer_sampler_enumerates_every_layer_width_pair_once():
    kept = jnp.asarray([3, 1, 4])
    pairs = [tuple(np.asarray(layers.pair_ranks(k, kept))) for k in range(8)]
    assert pairs == [
        (1, 1, 4), (2, 1, 4), (3, 1, 4),  # layer 0 at widths 1..3, the others at full rank
        (3, 1, 4),  # layer 1 at its only width (the same ranks as "all full")
        (3, 1, 1), (3, 1, 2), (3, 1, 3), (3, 1, 4),
    ]  # fmt: skip


def test_the_per_layer_sampler_draws_the_pairs_uniformly():
    # k ~ U{0..Σr−1} mapped by the bijection above: each (layer, width) has probability 1/Σr,
    # so P(layer l) = r_l/Σr and the width is uniform given the layer.
    kept = jnp.asarray([3, 5])
    keys = jax.random.split(jax.random.PRNGKey(0), 16_000)
    draws = np.asarray(jax.jit(jax.vmap(lambda k: layers.sample_ranks(k, kept)))(keys))
    counts = collections.Counter()
    for r in draws:
        (moved,) = np.flatnonzero(r != np.asarray(kept)) if (r != kept).any() else (None,)
        counts[(moved, r[moved]) if moved is not None else "full"] += 1
    # the two full-width pairs (0, 3) and (1, 5) both give "full": 2 of 8 pairs
    expected = {(0, 1): 1, (0, 2): 1, (1, 1): 1, (1, 2): 1, (1, 3): 1, (1, 4): 1, "full": 2}
    for pair, weight in expected.items():
        assert counts[pair] / len(draws) == pytest.approx(weight / 8, abs=0.012), pair


def test_the_across_layers_sampler_draws_each_layer_uniformly_within_its_kept_rank():
    kept = jnp.asarray([2, 4])
    keys = jax.random.split(jax.random.PRNGKey(1), 16_000)
    draws = np.asarray(
        jax.jit(jax.vmap(lambda k: layers.sample_ranks(k, kept, "across_layers")))(keys)
    )
    for layer, r in enumerate((2, 4)):
        freq = np.bincount(draws[:, layer], minlength=r + 1)[1:] / len(draws)
        np.testing.assert_allclose(freq, np.full(r, 1 / r), atol=0.012)
    with pytest.raises(ValueError, match="unknown sampler 'x'; known: per_layer, across_layers"):
        layers.sample_ranks(keys[0], kept, "x")


# --- the hierarchical group lasso


def test_the_group_lasso_is_the_sum_of_nested_suffix_norms_and_its_gradient_their_sum():
    u = np.random.RandomState(0).randn(4, 3)
    v = np.random.RandomState(1).randn(5, 3)
    suffix = [np.sqrt((u[:, i:] ** 2).sum()) + np.sqrt((v[:, i:] ** 2).sum()) for i in range(3)]
    assert float(layers.group_lasso(jnp.asarray(u), jnp.asarray(v))) == pytest.approx(
        sum(suffix), rel=1e-5
    )
    # ∂/∂u_j Σ_i ‖u_{i:}‖ = u_j · Σ_{i ≤ j} 1/‖u_{i:}‖ (column j is in the groups i = 0..j)
    grad_u = jax.grad(layers.group_lasso)(jnp.asarray(u), jnp.asarray(v))
    norms = [np.sqrt((u[:, i:] ** 2).sum()) for i in range(3)]
    want = np.stack([u[:, j] * sum(1 / norms[i] for i in range(j + 1)) for j in range(3)], 1)
    np.testing.assert_allclose(grad_u, want, rtol=1e-5)


def test_a_pruned_suffix_adds_nothing_and_gets_a_zero_not_a_nan_gradient():
    u = jnp.asarray(np.random.RandomState(0).randn(4, 3)).at[:, 2].set(0.0)
    v = jnp.asarray(np.random.RandomState(1).randn(5, 3)).at[:, 2].set(0.0)
    value, (gu, gv) = jax.value_and_grad(layers.group_lasso, argnums=(0, 1))(u, v)
    assert np.isfinite(value) and np.all(np.isfinite(gu)) and np.all(np.isfinite(gv))
    np.testing.assert_array_equal(gu[:, 2], 0.0)
    assert int(layers.kept_rank(u, v)) == 2


def test_the_importance_of_svd_factors_is_the_singular_values():
    kernel = np.random.RandomState(2).randn(6, 4)
    factors = layers.svd_factors(jnp.asarray(kernel))
    s = np.linalg.svd(kernel, compute_uv=False)
    np.testing.assert_allclose(
        layers.importance(factors["u"], factors["v"], hierarchical=False), s, rtol=1e-5
    )
    hierarchical = layers.importance(factors["u"], factors["v"])
    np.testing.assert_allclose(hierarchical, [s[i:].sum() for i in range(4)], rtol=1e-5)


# --- the layer


def test_the_layer_at_full_rank_is_its_dense_product():
    layer, params = _params()
    x = jax.random.normal(jax.random.PRNGKey(3), (7, 5))
    want = x @ params["v"] @ params["u"].T + params["bias"]
    np.testing.assert_allclose(layer.apply({"params": params}, x), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.apply({"params": params}, x, 4), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layers.dense_kernel(params), params["v"] @ params["u"].T, rtol=1e-6)
    assert params["u"].shape == (4, 4) and params["v"].shape == (5, 4)  # r = min(d, n)


@pytest.mark.parametrize("k", [0, 1, 3])
def test_truncation_keeps_the_leading_factors(k):
    layer, params = _params(rank=4)
    x = jax.random.normal(jax.random.PRNGKey(4), (7, 5))
    want = x @ params["v"][:, :k] @ params["u"][:, :k].T + params["bias"]
    got = layer.apply({"params": params}, x, jnp.asarray(k))  # a traced rank
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    cut = layers.truncate(params, [k])
    np.testing.assert_allclose(layer.apply({"params": cut}, x), want, rtol=1e-5, atol=1e-6)


def test_truncated_svd_factors_are_the_eckart_young_best_approximation():
    kernel = np.random.RandomState(5).randn(6, 5)
    factors = layers.svd_factors(jnp.asarray(kernel))
    q, s, pt = np.linalg.svd(kernel, full_matrices=False)
    for k in range(6):
        best = (q[:, :k] * s[:k]) @ pt[:k]
        np.testing.assert_allclose(layers.dense_kernel(factors, k), best, atol=1e-5)
        error = np.sum((np.asarray(layers.dense_kernel(factors, k)) - kernel) ** 2)
        assert error == pytest.approx(np.sum(s[k:] ** 2), abs=1e-4)


def test_an_mlp_of_maestro_layers_is_found_in_order_and_cut_per_layer():
    net = layers.MaestroMLP((8, 6), 3)
    params = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 5)))["params"]
    assert list(layers.maestro_layers(params)) == [(f"MaestroDense_{i}",) for i in range(3)]
    np.testing.assert_array_equal(layers.ranks_of(params), [5, 6, 3])
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 5))
    ranks = jnp.asarray([2, 6, 1])
    apply = jax.jit(lambda p, r: net.apply({"params": p}, x, r))
    cut = jax.jit(layers.truncate)(params, ranks)
    np.testing.assert_allclose(
        apply(params, ranks),
        apply(cut, jnp.asarray([5, 6, 3])),
        rtol=1e-5,
        atol=1e-6,
    )


# --- progressive shrinking


def test_progressive_shrinking_zeroes_the_unimportant_suffix_and_keeps_it_zero():
    _, params = _params(d=6, n=4, bias=False)
    params = {"u": params["u"].at[:, 2:].multiply(1e-3), "v": params["v"].at[:, 2:].multiply(1e-3)}
    tx = optax.chain(optax.sgd(0.01), layers.progressive_shrinking(every_steps=3, threshold=1e-4))
    state = tx.init(params)
    update = jax.jit(tx.update)
    first_two = jax.tree.map(lambda p: jnp.ones_like(p).at[:, 2:].set(0.0), params)
    for step in range(1, 7):
        # after the shrink, gradients push every entry, the pruned ones included
        grads = first_two if step <= 3 else jax.tree.map(jnp.ones_like, params)
        updates, state = update(grads, state, params)
        params = optax.apply_updates(params, updates)
        keep = layers.kept_masks(state)[""]
        if step < 3:
            assert keep.all()  # shrinking waits for the end of the "epoch"
        else:
            np.testing.assert_array_equal(keep, [True, True, False, False])
            np.testing.assert_array_equal(params["u"][:, 2:], 0.0)
            np.testing.assert_array_equal(params["v"][:, 2:], 0.0)
            assert int(layers.kept_rank(params["u"], params["v"])) == 2
    assert np.all(params["u"][:, :2] != 0.0)  # the kept components still train


def test_ordered_dropout_samples_within_the_kept_ranks():
    kept = jnp.asarray([2, 7])
    keys = jax.random.split(jax.random.PRNGKey(2), 2000)
    for sampler in layers.SAMPLERS:
        sample = jax.jit(jax.vmap(lambda k, s=sampler: layers.sample_ranks(k, kept, s)))
        draws = np.asarray(sample(keys))
        assert draws.min() >= 1 and (draws <= np.asarray(kept)).all()


# --- the config


def test_the_sweep_lists_every_problem_and_the_dense_baseline_over_the_seeds():
    members = config.get_sweep("cpu")
    assert len(members) == 4 * config.NUM_SEEDS["cpu"]
    runs = {m.rpartition(",seed=")[0] for m in members}
    assert runs == {f"problem={p}" for p in config.PROBLEMS} | {"problem=classifier,dense"}
    configs = config_lib.load_sweep("experiments.p55_maestro.config:smoke,seeds=2")
    assert [c.seed for c in configs] == [0, 1] * 4
    assert all(c.task == config.TASK for c in configs)


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(UserError, match="unknown problem 'svd'"):
        config.get_config("problem=svd")
    with pytest.raises(UserError, match="only the classifier has a dense baseline"):
        config.get_config("problem=regression,dense")
    with pytest.raises(UserError, match="use one of the settings"):
        config.get_config("cpu,smoke")
