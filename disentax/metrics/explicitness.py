"""Explicitness (Ridgeway & Mozer 2018): one-vs-rest ROC-AUC of a logistic regression per factor,
reported beside modularity as disentanglement_lib's `modularity_explicitness`."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from disentax.metrics import estimators
from disentax.metrics.modularity import modularity


def roc_auc(scores_N, positive_N):
    """Binary ROC-AUC with tied scores counted ½: (Σ_{pos} rank − P(P+1)/2) / (P·Q), average
    ranks; `[N], [N] bool -> scalar` (0.5 when a class is empty)."""
    n = scores_N.shape[0]
    order = jnp.sort(scores_N)
    rank = 0.5 * (
        jnp.searchsorted(order, scores_N, side="left")
        + jnp.searchsorted(order, scores_N, side="right")
        + 1.0
    )
    p = jnp.sum(positive_N)
    q = n - p
    u = jnp.sum(jnp.where(positive_N, rank, 0.0)) - p * (p + 1) / 2
    return jnp.where((p > 0) & (q > 0), u / jnp.maximum(p * q, 1.0), 0.5)


def modularity_explicitness(
    codes,
    factors,
    test_codes,
    test_factors,
    *,
    num_bins: int = 20,
    mode: str = "jax",
    num_classes=None,
):
    """Modularity and explicitness: `codes [N, L], factors [N, K], test_codes [M, L],
    test_factors [M, K] -> {"modularity", "explicitness_train", "explicitness_test"}`.

    "modularity" is `modularity(codes, factors, num_bins=num_bins)` (training split). For
    explicitness the codes are z-scored with the training mean and standard deviation (ddof 0; a
    constant code is only centred, where disentanglement_lib divides by zero), a
    `LogisticRegression()` (C = 1, L2; `estimators.fit_logistic_regression` in `mode="jax"`,
    sklearn in `mode="reference"`) predicts each factor, and its score is the mean over classes c
    of the ROC-AUC of p_c for 1[v = c] (`roc_auc`, sklearn's macro one-vs-rest on
    `MultiLabelBinarizer` labels); "explicitness_*" is the mean over factors on each split. A
    single-valued factor scores 1. Vmappable over a leading population axis in JAX mode.
    """
    estimators.check_choice("mode", mode, ("jax", "reference"))
    codes, factors, test_codes, test_factors = estimators.train_test_inputs(
        "modularity_explicitness", codes, factors, test_codes, test_factors
    )
    counts = estimators.class_counts("modularity_explicitness", factors, num_classes)
    mean = jnp.mean(codes, axis=0)
    std = jnp.std(codes, axis=0)
    std = jnp.where(std > 0, std, 1.0)
    x, x_test = (codes - mean) / std, (test_codes - mean) / std
    score = _reference_auc if mode == "reference" else _auc
    train, test = zip(
        *[score(x, factors[:, k], x_test, test_factors[:, k], c) for k, c in enumerate(counts)],
        strict=True,
    )
    return {
        "modularity": modularity(codes, factors, num_bins=num_bins)["modularity"],
        "explicitness_train": jnp.mean(jnp.stack(train)),
        "explicitness_test": jnp.mean(jnp.stack(test)),
    }


def _macro_auc(proba_NxC, y_N):
    """Mean over classes of the one-vs-rest ROC-AUC of each probability column."""
    classes = jnp.arange(proba_NxC.shape[1])
    return jnp.mean(jax.vmap(roc_auc, in_axes=(1, 0))(proba_NxC, y_N[None, :] == classes[:, None]))


@functools.partial(jax.jit, static_argnums=4)
def _auc(x, y, x_test, y_test, num_classes):
    y, y_test = estimators.encode_labels(y, y_test, num_classes)
    if num_classes == 1:
        return jnp.float32(1.0), jnp.float32(1.0)
    params = estimators.fit_logistic_regression(x, y, num_classes)
    return (
        _macro_auc(estimators.logistic_regression_proba(params, x), y),
        _macro_auc(estimators.logistic_regression_proba(params, x_test), y_test),
    )


def _reference_auc(x, y, x_test, y_test, num_classes):
    estimators.require_sklearn("modularity_explicitness")
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import MultiLabelBinarizer

    x, y, x_test, y_test = (np.asarray(a) for a in (x, y, x_test, y_test))
    if num_classes == 1:
        return jnp.float32(1.0), jnp.float32(1.0)
    model = LogisticRegression().fit(x, y)

    def auc(features, labels):
        binarised = MultiLabelBinarizer().fit_transform(labels[:, None])
        return jnp.float32(roc_auc_score(binarised, model.predict_proba(features)))

    return auc(x, y), auc(x_test, y_test)
