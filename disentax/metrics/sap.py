"""Separated Attribute Predictability (Kumar et al. 2018) as computed by disentanglement_lib."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from disentax.errors import UserError
from disentax.metrics import inputs
from disentax.metrics.estimators import encoding, svm
from disentax.metrics.numerics import tree_sum


def sap(
    codes,
    factors,
    test_codes,
    test_factors,
    *,
    continuous_factors: bool = False,
    mode: str = "jax",
    num_classes=None,
):
    """SAP: `codes [N, L], factors [N, K], test_codes [M, L], test_factors [M, K] -> {"sap"}`.

    SAP = (1/K) Σ_k (S_(1),k − S_(2),k), the gap between the two largest scores over codes of a
    score matrix S `[L, K]`. Discrete factors (default, disentanglement_lib's study setting):
    S_ik = test accuracy of `LinearSVC(C=0.01, class_weight="balanced")` predicting v_k from code
    i alone, trained on the training split (`svm.fit_linear_svc_1d` in `mode="jax"`,
    sklearn in `mode="reference"`). Continuous factors: S_ik = Cov(z_i, v_k)² / (Var z_i ·
    Var v_k) on the training split (sample moments, ddof = 1), set to 0 where Var z_i ≤ 1e-12
    and, unlike disentanglement_lib (which divides by zero), where Var v_k = 0. Jittable
    (`continuous_factors`, `mode`, `num_classes` static; discrete factors under jit need
    `num_classes`, see `dci`) and vmappable over a leading population axis in JAX mode.
    """
    if not isinstance(continuous_factors, bool):
        raise UserError(
            f"continuous_factors must be a Python bool (static under jit), "
            f"got {continuous_factors!r}"
        )
    inputs.check_choice("mode", mode, ("jax", "reference"))
    codes, factors, test_codes, test_factors = inputs.split_inputs(
        "sap",
        codes,
        factors,
        test_codes,
        test_factors,
        min_codes=2,
        continuous_factors=continuous_factors,
        hint="pass continuous_factors=True for continuous factors",
    )
    if not continuous_factors:
        counts = inputs.class_counts("sap", factors, num_classes)
        accuracy = _reference_accuracy if mode == "reference" else _svc_accuracy
        return {"sap": _top_two_gap(accuracy(codes, factors, test_codes, test_factors, counts))}
    return _sap_continuous(codes, factors)


@functools.partial(jax.jit, static_argnums=4)
def _svc_accuracy(codes, factors, test_codes, test_factors, counts):
    """Test accuracy of a 1-D `LinearSVC` per code and factor: `-> [L, K]` (1 for a
    single-valued factor). Each code is sorted once for all factors."""
    features = jax.vmap(svm.sorted_feature)(codes.T)
    columns = []
    for k, num_classes in enumerate(counts):
        y, y_test = encoding.encode_labels(factors[:, k], test_factors[:, k], num_classes)
        if num_classes == 1:
            columns.append(jnp.broadcast_to(jnp.mean(y_test == 0), codes.shape[1:]))
            continue

        def per_code(feature, x_test, y=y, y_test=y_test, num_classes=num_classes):
            params = svm.fit_sorted_svc(feature, y, num_classes)
            return jnp.mean(encoding.linear_predict(params, x_test[:, None]) == y_test)

        columns.append(jax.vmap(per_code)(features, test_codes.T))
    return jnp.stack(columns, axis=1)


def _reference_accuracy(codes, factors, test_codes, test_factors, counts):
    inputs.require_sklearn("sap")
    from sklearn.svm import LinearSVC

    codes, factors, test_codes, test_factors = (
        np.asarray(a) for a in (codes, factors, test_codes, test_factors)
    )
    score = np.zeros((codes.shape[1], factors.shape[1]))
    for k, num_classes in enumerate(counts):
        y, y_test = factors[:, k], test_factors[:, k]
        for i in range(codes.shape[1]):
            if num_classes == 1:
                score[i, k] = np.mean(y_test == y[0])
                continue
            model = LinearSVC(C=0.01, class_weight="balanced").fit(codes[:, i : i + 1], y)
            score[i, k] = np.mean(model.predict(test_codes[:, i : i + 1]) == y_test)
    return jnp.asarray(score, jnp.float32)


def _top_two_gap(score_LxK):
    top = jnp.sort(score_LxK, axis=0)
    return tree_sum(top[-1] - top[-2]) / score_LxK.shape[1]


def _centred(x):
    constant = jnp.max(x, axis=0) == jnp.min(x, axis=0)
    return jnp.where(constant, 0.0, x - (tree_sum(x.T) / x.shape[0])[None, :])


@jax.jit
def _sap_continuous(codes, factors):
    n = codes.shape[0]
    z, v = _centred(codes).T, _centred(factors).T.astype(codes.dtype)  # [L, N], [K, N]
    var_z = tree_sum(z * z) / (n - 1)
    var_v = tree_sum(v * v) / (n - 1)
    cov = tree_sum(z[:, None, :] * v[None, :, :]) / (n - 1)  # [L, K]
    denominator = var_z[:, None] * var_v[None, :]
    valid = (var_z[:, None] > 1e-12) & (var_v[None, :] > 0)
    score = jnp.where(valid, jnp.square(cov) / jnp.where(valid, denominator, 1.0), 0.0)
    return {"sap": _top_two_gap(score)}
