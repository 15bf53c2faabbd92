"""DCI disentanglement, completeness and informativeness (Eastwood & Williams 2018) from tree
feature importances, as disentanglement_lib (gradient boosting) or Tripod (random forest)."""

import jax
import jax.numpy as jnp
import numpy as np

from disentax.errors import UserError
from disentax.metrics import inputs
from disentax.metrics.estimators import encoding, forest, gbt

ESTIMATORS = ("gbt", "random_forest")
MODES = ("jax", "reference")


def disentanglement_from_importance(importance_LxK):
    """D = Σ_i ρ_i (1 − H_K(P_i·)): P_i· = row i of R + 1e-11 normalised, H_K the entropy in base
    K (factors), ρ_i = Σ_k R_ik / Σ R (uniform when R = 0), for R `[L, K]` -> scalar in [0, 1]
    (0 ≤ H_K ≤ 1; clipped there against float32 rounding, which left −1.2e-7 for R = 0)."""
    return _weighted_one_minus_entropy(jnp.asarray(importance_LxK, jnp.float32))


def completeness_from_importance(importance_LxK):
    """C = Σ_k ρ_k (1 − H_L(P_·k)) in [0, 1]: as `disentanglement_from_importance` on Rᵀ (base
    L, codes)."""
    return _weighted_one_minus_entropy(jnp.asarray(importance_LxK, jnp.float32).T)


def _weighted_one_minus_entropy(r):
    p = r + 1e-11
    p = p / jnp.sum(p, axis=1, keepdims=True)
    score = 1.0 + jnp.sum(p * jnp.log(p), axis=1) / jnp.log(r.shape[1])
    total = jnp.sum(r)
    weight = jnp.where(total > 0, jnp.sum(r, axis=1) / jnp.where(total > 0, total, 1.0), 1.0)
    return jnp.clip(jnp.sum(score * weight / jnp.sum(weight)), 0.0, 1.0)


def dci(
    codes,
    factors,
    test_codes,
    test_factors,
    *,
    estimator: str = "gbt",
    mode: str = "jax",
    seed: int = 0,
    num_classes=None,
):
    """DCI: `codes [N, L], factors [N, K], test_codes [M, L], test_factors [M, K] -> dict`.

    Per factor k a classifier predicts v_k from all codes; R_ik = its feature importance of code
    i (`[L, K]`). Keys: "disentanglement" = `disentanglement_from_importance(R)`, "completeness"
    = `completeness_from_importance(R)`, "informativeness_train" / "_test" = mean over factors of
    the classifier's accuracy on each split; "importance" = R itself (`viz.importance_heatmap`
    draws it; `metrics.suite` leaves it out of its scalar results). `estimator="gbt"`:
    disentanglement_lib's `GradientBoostingClassifier()` (`gbt.fit_gbt`);
    `"random_forest"`: Tripod's `RandomForestClassifier(n_estimators=100, criterion="entropy",
    max_depth=10)`
    (`forest.fit_random_forest`; trained on the given split, not Tripod's 90/10 resplit).
    `mode="jax"` uses those JAX estimators (histogram splits, so importances and accuracies
    differ slightly from sklearn's exact splits); `"reference"` the sklearn estimators with
    `random_state=seed + k` for factor k (disentanglement_lib leaves it unseeded); in JAX mode
    `seed + k` draws factor k's tie-breaks and bootstraps. A factor with a single value is
    predicted exactly and has zero importances (sklearn refuses it). Vmappable over
    a leading population axis of codes in JAX mode (factors unbatched, or `num_classes` given).
    """
    inputs.check_choice("estimator", estimator, ESTIMATORS)
    inputs.check_choice("mode", mode, MODES)
    codes, factors, test_codes, test_factors = inputs.split_inputs(
        "dci", codes, factors, test_codes, test_factors, min_codes=2
    )
    if factors.shape[1] < 2:
        raise UserError(f"dci needs at least 2 factors (entropy base K), got {factors.shape[1]}")
    counts = inputs.class_counts("dci", factors, num_classes)
    fit = _reference_fit if mode == "reference" else _jax_fit
    columns, train_accuracy, test_accuracy = [], [], []
    for k, num_classes_k in enumerate(counts):
        importance, train_acc, test_acc = fit(
            estimator, codes, factors[:, k], test_codes, test_factors[:, k], num_classes_k, seed + k
        )
        columns.append(importance)
        train_accuracy.append(train_acc)
        test_accuracy.append(test_acc)
    importance = jnp.stack(columns, axis=1)
    return {
        "disentanglement": disentanglement_from_importance(importance),
        "completeness": completeness_from_importance(importance),
        "informativeness_train": jnp.mean(jnp.stack(train_accuracy)),
        "informativeness_test": jnp.mean(jnp.stack(test_accuracy)),
        "importance": importance,
    }


def _jax_fit(estimator, x, y, x_test, y_test, num_classes, seed):
    key = jax.random.PRNGKey(seed)
    y, y_test = encoding.encode_labels(y, y_test, num_classes)
    if num_classes == 1:
        zero = jnp.zeros(x.shape[1], jnp.float32)
        return zero, jnp.float32(1.0), jnp.mean(y_test == 0)
    if estimator == "gbt":
        model, importance = gbt.fit_gbt(x, y, key, num_classes)
        predict = gbt.gbt_predict
    else:
        model, importance = forest.fit_random_forest(x, y, key, num_classes)
        predict = forest.random_forest_predict
    # one call for both splits: a prediction is per sample, and each input shape compiles anew
    predicted = predict(model, jnp.concatenate([x, x_test]))
    n = x.shape[0]
    return importance, jnp.mean(predicted[:n] == y), jnp.mean(predicted[n:] == y_test)


def _reference_fit(estimator, x, y, x_test, y_test, num_classes, seed):
    inputs.require_sklearn("dci")
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

    x, y, x_test, y_test = (np.asarray(a) for a in (x, y, x_test, y_test))
    if num_classes == 1:
        return jnp.zeros(x.shape[1], jnp.float32), jnp.float32(1.0), jnp.mean(y_test == y[0])
    if estimator == "gbt":
        model = GradientBoostingClassifier(random_state=seed)
    else:
        model = RandomForestClassifier(
            n_estimators=100, criterion="entropy", max_depth=10, random_state=seed
        )
    model.fit(x, y)
    return (
        jnp.asarray(np.abs(model.feature_importances_), jnp.float32),
        jnp.float32(np.mean(model.predict(x) == y)),
        jnp.float32(np.mean(model.predict(x_test) == y_test)),
    )
