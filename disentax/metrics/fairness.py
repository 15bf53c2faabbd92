"""Fairness (Locatello et al. 2019) as disentanglement_lib: TV distance of predictions under
interventions on a sensitive factor."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from disentax import data
from disentax.errors import UserError
from disentax.metrics import inputs, progress
from disentax.metrics.estimators import gbt
from disentax.metrics.factor_vae_score import encode_factors


@jax.jit
def inter_group_fairness(counts):
    """(mean, max) TV distance of predictions per sensitive class to all classes, from
    `counts [A predicted classes, C sensitive classes]`.

    p = Σ_c counts[:, c] / Σ counts, p_c = counts[:, c] / Σ_a counts[a, c],
    TV_c = ½ Σ_a |p_c,a − p_a|; mean = Σ_c n_c TV_c / Σ_c n_c (n_c = Σ_a counts[a, c]) and
    max = max_c TV_c, as disentanglement_lib's `inter_group_fairness` (float32).
    """
    counts = jnp.asarray(counts, jnp.float32)
    per_class = jnp.sum(counts, axis=0)
    overall = jnp.sum(counts, axis=1) / jnp.sum(counts)
    tv = jnp.sum(jnp.abs(counts / per_class[None, :] - overall[:, None]), axis=0) / 2.0
    return jnp.sum(tv * per_class / jnp.sum(per_class)), jnp.max(tv)


def fairness_scores(matrix, prefix: str):
    """disentanglement_lib's `compute_scores_dict` of a `[K, K]` matrix (pred i, sens j, i ≠ j):
    every off-diagonal entry `{prefix}:pred{i}:sens{j}`, the mean / max over sensitive factors per
    predicted one and over predicted per sensitive one, and the mean / max of those."""
    matrix = np.asarray(matrix, np.float64)
    k = matrix.shape[0]
    off = ~np.eye(k, dtype=bool)
    result = {}
    for i, j in zip(*np.nonzero(off), strict=True):
        result[f"{prefix}:pred{i}:sens{j}"] = matrix[i, j]
    rows = [matrix[i, off[i]] for i in range(k)]
    columns = [matrix[off[:, j], j] for j in range(k)]
    for i, row in enumerate(rows):
        result[f"{prefix}:pred{i}:mean_sens"] = np.mean(row)
        result[f"{prefix}:pred{i}:max_sens"] = np.max(row)
    for j, column in enumerate(columns):
        result[f"{prefix}:sens{j}:mean_pred"] = np.mean(column)
        result[f"{prefix}:sens{j}:max_pred"] = np.max(column)
    column_means, column_maxs = [np.mean(c) for c in columns], [np.max(c) for c in columns]
    row_means, row_maxs = [np.mean(r) for r in rows], [np.max(r) for r in rows]
    result[f"{prefix}:mean_sens:mean_pred"] = np.mean(column_means)
    result[f"{prefix}:mean_sens:max_pred"] = np.mean(column_maxs)
    result[f"{prefix}:max_sens:mean_pred"] = np.max(column_means)
    result[f"{prefix}:max_sens:max_pred"] = np.max(column_maxs)
    result[f"{prefix}:mean_pred:mean_sens"] = np.mean(row_means)
    result[f"{prefix}:mean_pred:max_sens"] = np.mean(row_maxs)
    result[f"{prefix}:max_pred:mean_sens"] = np.max(row_means)
    result[f"{prefix}:max_pred:max_sens"] = np.max(row_maxs)
    return result


def fairness(
    dataset,
    representation_fn,
    rng,
    *,
    num_train: int = 10000,
    num_test_points_per_class: int = 100,
    mode: str = "jax",
    images_per_call: int = 4096,
):
    """Unfairness of per-factor classifiers on `representation_fn(images) -> codes [B, L]`.

    For each target factor i a classifier f_i is fit on `num_train` i.i.d. (codes, v_i). For each
    sensitive factor j ≠ i, P = `num_test_points_per_class` factor vectors are drawn once and, for
    every value c of factor j, set v_j = c and rendered; counts[a, c] = #{f_i(z) = a}.
    Then (mean_fairness[i, j], max_fairness[i, j]) = `inter_group_fairness(counts)`, and the
    result is `fairness_scores` of both matrices ("mean_fairness:..." and "max_fairness:..."
    keys; Section 4 of the paper reports "mean_fairness:mean_pred:mean_sens"), plus the
    matrices themselves as "mean_fairness" and "max_fairness" `[K, K]` (diagonal 0).

    The classifier is disentanglement_lib's fairness-study `GradientBoostingClassifier()`:
    `mode="jax"` (default) fits `gbt.fit_gbt` (its histogram approximation, jitted);
    `mode="reference"` fits sklearn's. Labels are factor indices 0..size−1. Procedural datasets
    are rendered and encoded on the device (`images_per_call` images per jitted call); `rng` is
    a JAX key; disentanglement_lib's `batch_size` only chunks the encoder and is not a knob. A
    progress bar counts the images encoded (`progress.images_bar`): `num_train` + P·(K − 1)·Σ_j
    size_j.
    """
    inputs.interventional_inputs("fairness", dataset, representation_fn, rng)
    for name, value in (
        ("num_train", num_train),
        ("num_test_points_per_class", num_test_points_per_class),
        ("images_per_call", images_per_call),
    ):
        if not isinstance(value, int) or value < 1:
            raise UserError(f"{name} must be a positive Python int, got {value!r}")
    if mode not in ("jax", "reference"):
        raise UserError(f"mode must be 'jax' or 'reference', got {mode!r}")
    sizes = tuple(int(s) for s in dataset.factor_sizes)
    num_factors = len(sizes)
    if num_factors < 2:
        raise UserError(f"fairness needs at least 2 factors, {dataset.name} has {num_factors}")
    train_key, fit_key, test_key = jax.random.split(rng, 3)
    encode = _Encoder(dataset, representation_fn, images_per_call)

    total = num_train + num_test_points_per_class * (num_factors - 1) * sum(sizes)
    with progress.images_bar("fairness", total):
        factor_key, nuisance_key = jax.random.split(train_key)
        train_factors = dataset.sample_factors(factor_key, num_train)
        train_codes = encode(train_factors, nuisance_key)
        mean_fairness = np.zeros((num_factors, num_factors))
        max_fairness = np.zeros((num_factors, num_factors))
        for i in range(num_factors):
            predict = _fit(
                mode, train_codes, train_factors[:, i], sizes[i], jax.random.fold_in(fit_key, i)
            )
            for j in range(num_factors):
                if i == j:
                    continue
                pair_key = jax.random.fold_in(test_key, i * num_factors + j)
                factor_key, nuisance_key = jax.random.split(pair_key)
                original = dataset.sample_factors(factor_key, num_test_points_per_class)
                intervened = jnp.tile(original, (sizes[j], 1))
                values = jnp.repeat(jnp.arange(sizes[j]), num_test_points_per_class)
                intervened = intervened.at[:, j].set(values)
                predictions = predict(encode(intervened, nuisance_key))
                counts = _counts(predictions, values, sizes[i], sizes[j])
                mean_fairness[i, j], max_fairness[i, j] = inter_group_fairness(counts)
    return {
        **fairness_scores(mean_fairness, "mean_fairness"),
        **fairness_scores(max_fairness, "max_fairness"),
        "mean_fairness": mean_fairness,
        "max_fairness": max_fairness,
    }


@functools.partial(jax.jit, static_argnums=(2, 3))
def _counts(predictions, values, num_predicted, num_sensitive):
    """counts[a, c] = #{n : prediction_n = a, value_n = c}, `[A, C]`."""
    index = jnp.clip(predictions, 0, num_predicted - 1) * num_sensitive + values
    flat = jnp.zeros(num_predicted * num_sensitive, jnp.int32).at[index].add(1)
    return flat.reshape(num_predicted, num_sensitive)


def _fit(mode, codes, labels, num_classes, key):
    """A predictor codes `[N, L]` -> labels `[N]` fit on (codes, labels)."""
    if mode == "reference":
        from sklearn import ensemble

        model = ensemble.GradientBoostingClassifier().fit(np.asarray(codes), np.asarray(labels))
        return lambda x: jnp.asarray(model.predict(np.asarray(x)), jnp.int32)
    model, _ = gbt.fit_gbt(codes, labels, key, num_classes)
    return lambda x: gbt.gbt_predict(model, x)


class _Encoder:
    """codes `[N, L]` of the images of factors `[N, K]`, `images_per_call` at a time; jitted with
    the renderer for procedural datasets, rendered on the host for stored ones."""

    def __init__(self, dataset, representation_fn, images_per_call):
        self.dataset, self.fn, self.chunk = dataset, representation_fn, images_per_call
        self.procedural = data.is_procedural(dataset)
        self.jitted_fn = None if self.procedural else jax.jit(representation_fn)

    def __call__(self, factors, key):
        codes = []
        for start in range(0, factors.shape[0], self.chunk):
            chunk_key = jax.random.fold_in(key, start)
            chunk = factors[start : start + self.chunk]
            if self.procedural:
                codes.append(encode_factors_jit(self.dataset, self.fn, chunk, chunk_key))
            else:
                codes.append(
                    encode_factors(self.dataset, self.jitted_fn, np.asarray(chunk), chunk_key)
                )
        return jnp.concatenate(codes)


encode_factors_jit = jax.jit(encode_factors, static_argnums=(0, 1))
