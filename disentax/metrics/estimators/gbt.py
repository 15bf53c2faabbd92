"""Gradient-boosted trees, as sklearn's `GradientBoostingClassifier`, on binned features."""

import functools

import jax
import jax.numpy as jnp
from jax import lax

from disentax.metrics.estimators.encoding import one_hot_classes
from disentax.metrics.estimators.trees import (
    apply_bins,
    grow_tree,
    quantile_edges,
    squared_error_level_gain,
    tree_leaves,
    uniform,
)


@functools.partial(jax.jit, static_argnames=("num_classes", "num_stages", "depth", "num_bins"))
def fit_gbt(
    x_NxF,
    y_N,
    key,
    num_classes: int,
    *,
    num_stages: int = 100,
    learning_rate: float = 0.1,
    depth: int = 3,
    num_bins: int = 256,
):
    """sklearn `GradientBoostingClassifier()` (log loss, 100 stages, lr 0.1, depth 3) on
    `num_bins` quantile bins: `-> (model, feature_importances [F])`.

    Raw scores start at the log class priors; each stage fits one regression tree per class
    (one tree for 2 classes) to the residuals g = 1[y = c] − p_c by squared-error splits, and
    each leaf adds lr·ρ·Σg / Σp(1 − p), ρ = (C − 1)/C for C > 2 classes, 1 for 2. Importances are
    sklearn's: per tree Σ over splits of the between-node sum of squares / N, averaged over trees
    that split, normalised to sum 1 (0 if no tree splits).
    """
    edges = quantile_edges(x_NxF, num_bins)
    bins = apply_bins(x_NxF, edges)
    n = x_NxF.shape[0]
    trees_per_stage = 1 if num_classes == 2 else num_classes
    targets = one_hot_classes(y_N, num_classes)
    prior = jnp.maximum(jnp.mean(targets, axis=0), 1e-12)
    if num_classes == 2:
        raw0 = jnp.log(prior[1:] / prior[:1])
        targets = targets[:, 1:]
    else:
        raw0 = jnp.log(prior)
    rho = 1.0 if num_classes == 2 else (num_classes - 1.0) / num_classes
    num_leaves = 2**depth

    def one_tree(g, hess, noise):
        centred = g - jnp.mean(g)
        gain = functools.partial(
            squared_error_level_gain, jnp.stack([centred, jnp.ones(n)], 1), num_bins
        )
        tree, importance, leaf = grow_tree(bins, gain, depth, num_bins, noise)
        numerator = jax.ops.segment_sum(g, leaf, num_segments=num_leaves)
        denominator = jax.ops.segment_sum(hess, leaf, num_segments=num_leaves)
        safe = jnp.abs(denominator) > 1e-30
        value = (
            learning_rate * rho * jnp.where(safe, numerator / jnp.where(safe, denominator, 1), 0)
        )
        return tree, value, importance / n, value[leaf]

    def stage(raw, noise):
        p = _probabilities(raw)
        g = targets - p
        tree, value, importance, update = jax.vmap(one_tree, in_axes=(1, 1, 0))(
            g, p * (1 - p), noise
        )
        return raw + update.T, (tree, value, importance)

    raw = jnp.broadcast_to(raw0, (n, trees_per_stage))
    noise = uniform(key, (num_stages, trees_per_stage, 2, 2**depth - 1, x_NxF.shape[1]))
    _, (trees, values, importances) = lax.scan(stage, raw, noise)
    relevant = jnp.sum(importances, axis=-1) > 0  # trees whose root split
    mean = jnp.sum(importances * relevant[..., None], axis=(0, 1)) / jnp.maximum(
        jnp.sum(relevant), 1
    )
    total = jnp.sum(mean)
    feature_importances = jnp.where(total > 0, mean / jnp.where(total > 0, total, 1.0), 0.0)
    return (edges, raw0, trees, values), feature_importances


def _probabilities(raw):
    if raw.shape[1] == 1:
        return jax.nn.sigmoid(raw)
    return jax.nn.softmax(raw, axis=1)


@jax.jit
def gbt_predict(model, x_NxF):
    """Class index `[N]` of a `fit_gbt` model: argmax of the summed raw scores (> 0 if one)."""
    edges, raw0, trees, values = model
    bins = apply_bins(x_NxF, edges)

    def stage(raw, tree_and_values):
        tree, value = tree_and_values
        leaves = jax.vmap(tree_leaves, in_axes=(0, None))(tree, bins)  # [T, N]
        return raw + jnp.take_along_axis(value, leaves, axis=1).T, None

    raw, _ = lax.scan(
        stage, jnp.broadcast_to(raw0, (x_NxF.shape[0], raw0.shape[0])), (trees, values)
    )
    return (raw[:, 0] > 0).astype(jnp.int32) if raw.shape[1] == 1 else jnp.argmax(raw, axis=1)
