"""Explicitness (Ridgeway & Mozer 2018): one-vs-rest ROC-AUC of a logistic regression per factor,
reported beside modularity as disentanglement_lib's `modularity_explicitness`."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from disentax.metrics import inputs
from disentax.metrics.estimators import encoding, logistic
from disentax.metrics.modularity import modularity
from disentax.metrics.numerics import first_true
from disentax.metrics.ordering import order_keys


def roc_auc(scores_N, positive_N):
    """Binary ROC-AUC with tied scores counted ½: (Σ_{pos} rank − P(P+1)/2) / (P·Q), average
    ranks; `[N], [N] bool -> scalar` (0.5 when a class is empty)."""
    return macro_auc(scores_N[:, None], jnp.where(positive_N, 0, -1))


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
    `LogisticRegression()` (C = 1, L2; `logistic.fit_logistic_regression` in `mode="jax"`,
    sklearn in `mode="reference"`) predicts each factor, and its score is the mean over classes c
    of the ROC-AUC of p_c for 1[v = c] (`roc_auc`, sklearn's macro one-vs-rest on
    `MultiLabelBinarizer` labels); "explicitness_*" is the mean over factors on each split. A
    single-valued factor scores 1. Vmappable over a leading population axis in JAX mode.
    """
    inputs.check_choice("mode", mode, ("jax", "reference"))
    codes, factors, test_codes, test_factors = inputs.split_inputs(
        "modularity_explicitness", codes, factors, test_codes, test_factors
    )
    counts = inputs.class_counts("modularity_explicitness", factors, num_classes)
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


def macro_auc(scores_NxC, y_N):
    """Mean over classes c of the one-vs-rest ROC-AUC of column c for 1[y = c] (tied scores
    counted ½; 0.5 for a class without positives or negatives): `[N, C], int [N] -> scalar`
    (labels outside 0..C−1 are negatives of every class).

    Per class, U_c = Σ_{n: y_n = c} rank_c(n) − P_c(P_c + 1)/2 with average ranks over column c,
    AUC_c = U_c / (P_c·Q_c). The columns are sorted once as int32 keys of the same order (XLA:CPU
    sorts them ~4× faster than floats); each sample's rank in its own class's column is a
    binary search, so only N searches, not N·C.
    """
    n, num_classes = scores_NxC.shape
    keys = order_keys(scores_NxC).T  # [C, N]
    sorted_keys = lax.sort(keys, dimension=1, is_stable=False)
    labelled = (y_N >= 0) & (y_N < num_classes)
    column = jnp.where(labelled, y_N, 0)
    query = keys[column, jnp.arange(n)]
    below = first_true(lambda j: sorted_keys[column, j] >= query, n, n)
    at_most = first_true(lambda j: sorted_keys[column, j] > query, n, n)
    rank = 0.5 * (below + at_most + 1).astype(jnp.float32)
    p = jax.ops.segment_sum(labelled.astype(jnp.float32), column, num_segments=num_classes)
    rank_sum = jax.ops.segment_sum(jnp.where(labelled, rank, 0.0), column, num_classes)
    q = n - p
    auc = (rank_sum - p * (p + 1) / 2) / jnp.maximum(p * q, 1.0)
    return jnp.mean(jnp.where((p > 0) & (q > 0), auc, 0.5))


# Newton stops at ‖g‖∞ ≤ 10⁻³‖g₀‖∞, where sklearn's default lbfgs stops at ‖g‖∞ ≤ 10⁻⁴ on the
# gradient of its mean loss (≈ 10⁻³–10⁻²‖g₀‖∞ for the benchmark's factors) or after 100
# iterations; the ROC-AUCs move < 2·10⁻⁶ from the fit at 10⁻⁴ there, in about 20 % less time.
_TOL = 1e-3


@functools.partial(jax.jit, static_argnums=4)
def _auc(x, y, x_test, y_test, num_classes):
    y, y_test = encoding.encode_labels(y, y_test, num_classes)
    if num_classes == 1:
        return jnp.float32(1.0), jnp.float32(1.0)
    params = logistic.fit_logistic_regression(x, y, num_classes, tol=_TOL)
    return (
        macro_auc(logistic.logistic_regression_proba(params, x), y),
        macro_auc(logistic.logistic_regression_proba(params, x_test), y_test),
    )


def _reference_auc(x, y, x_test, y_test, num_classes):
    inputs.require_sklearn("modularity_explicitness")
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
