"""A random forest, as sklearn's `RandomForestClassifier(criterion="entropy")`, on binned features,
its trees split over this host's devices."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from disentax.metrics.estimators.encoding import first_max_index
from disentax.metrics.estimators.trees import (
    apply_bins,
    dense_entropy_levels,
    entropy_level_gain,
    grow_tree,
    quantile_edges,
    tree_leaves,
    uniform,
)


@functools.partial(
    jax.jit, static_argnames=("num_classes", "num_trees", "depth", "num_bins", "max_features")
)
def fit_random_forest(
    x_NxF,
    y_N,
    key,
    num_classes: int,
    *,
    num_trees: int = 100,
    depth: int = 10,
    num_bins: int = 32,
    max_features: int | None = None,
):
    """sklearn `RandomForestClassifier(n_estimators=100, criterion="entropy", max_depth=10)` on
    `num_bins` quantile bins: `-> (model, feature_importances [F])`.

    Each tree sees a bootstrap sample (N draws with replacement, each of unit weight) and, at
    every node, k = ⌊√F⌋ random features (`max_features`); splits maximise the decrease of
    weighted entropy (`entropy_level_gain`). A tree predicts its leaf's class frequencies; the
    forest averages them. Importances are sklearn's: per tree the entropy decreases per feature
    normalised to sum 1, averaged over trees and normalised again. The trees are grown on all
    of this host's devices, each device its share (`split_over_devices`).
    """
    n, num_features = x_NxF.shape
    k = max(1, int(num_features**0.5)) if max_features is None else max_features
    edges = quantile_edges(x_NxF, num_bins)
    bins = apply_bins(x_NxF, edges)

    # dense levels in loops of up to 3 (widths within 8×), the sorted ones in one loop
    dense = dense_entropy_levels(n, depth, num_bins, num_classes)
    schedule = (3,) * (dense // 3) + ((dense % 3,) if dense % 3 else ())
    schedule += (depth - dense,) if depth > dense else ()

    boot_key, noise_key = jax.random.split(key)
    draws = jax.random.randint(boot_key, (num_trees, n), 0, n)
    noise = uniform(noise_key, (num_trees, 2, 2**depth - 1, num_features))

    def one_tree(draws_and_noise):
        draws, noise = draws_and_noise
        labels = y_N[draws]
        gain = functools.partial(entropy_level_gain, labels, num_classes, num_bins)
        tree, importance, leaf = grow_tree(
            bins[draws], gain, depth, num_bins, noise, feature_subset=k, schedule=schedule
        )
        leaf_counts = jax.ops.segment_sum(
            jnp.ones(n, jnp.float32), leaf * num_classes + labels, 2**depth * num_classes
        ).reshape(2**depth, num_classes)
        proba = leaf_counts / jnp.maximum(jnp.sum(leaf_counts, axis=1, keepdims=True), 1.0)
        total = jnp.sum(importance)
        return tree, proba, jnp.where(total > 0, importance / jnp.where(total > 0, total, 1), 0)

    trees, probas, importances = split_over_devices(
        lambda rows: lax.map(one_tree, rows), (draws, noise)
    )
    mean = jnp.mean(importances, axis=0)
    total = jnp.sum(mean)
    feature_importances = jnp.where(total > 0, mean / jnp.where(total > 0, total, 1.0), 0.0)
    return (edges, trees, probas), feature_importances


def split_over_devices(fn, xs, *shared):
    """`fn(xs, *shared)` for a function of independent rows (the leading axis of every leaf of
    `xs`), with the rows split over this process's devices: each device applies `fn` to its own
    ⌈T/D⌉ rows and the whole of `shared` (`shard_map`; T is padded with copies of the first rows,
    dropped from the result), and the result comes back replicated. A row's result is computed
    as on one device, so it does not depend on the device count. Metrics are computed by every
    host on its own values, so the split stays within the host (`jax.local_devices()`)."""
    devices = jax.local_devices()
    if len(devices) == 1:
        return fn(xs, *shared)
    count = jax.tree.leaves(xs)[0].shape[0]
    pad = -count % len(devices)
    padded = jax.tree.map(lambda x: jnp.concatenate([x, jnp.resize(x, (pad, *x.shape[1:]))]), xs)
    mesh = jax.sharding.Mesh(np.array(devices), ("rows",))
    spec = jax.sharding.PartitionSpec("rows")
    whole = jax.sharding.PartitionSpec()
    split = jax.shard_map(
        fn, mesh=mesh, in_specs=(spec, *(whole,) * len(shared)), out_specs=spec, check_vma=False
    )
    replicated = jax.sharding.NamedSharding(mesh, whole)
    return jax.tree.map(
        lambda y: lax.with_sharding_constraint(y[:count], replicated), split(padded, *shared)
    )


@jax.jit
def random_forest_predict(model, x_NxF):
    """Class index `[N]` of a `fit_random_forest` model: argmax of the mean tree probabilities,
    the samples split over this host's devices."""

    def predict(x_NxF, model):
        edges, trees, probas = model
        bins = apply_bins(x_NxF, edges)

        def tree_proba(total, tree_and_proba):
            tree, proba = tree_and_proba
            return total + proba[tree_leaves(tree, bins)], None

        initial = jnp.zeros((x_NxF.shape[0], probas.shape[-1]))
        total, _ = lax.scan(tree_proba, initial, (trees, probas))
        return first_max_index(total)

    return split_over_devices(predict, x_NxF, model)
