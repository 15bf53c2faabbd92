"""Separated Attribute Predictability (Kumar et al. 2018) as computed by disentanglement_lib."""

import jax
import jax.numpy as jnp

from disentax.errors import UserError
from disentax.metrics.mig import _require_2d, _require_same_n, _tree_sum


def sap(codes, factors, test_codes, test_factors, *, continuous_factors: bool = False):
    """SAP: `codes [N, L], factors [N, K], test_codes [M, L], test_factors [M, K] -> {"sap"}`.

    With continuous factors the score matrix is S_ik = Cov(z_i, v_k)² / (Var z_i · Var v_k)
    (sample moments, ddof = 1), set to 0 where Var z_i ≤ 1e-12 and, unlike disentanglement_lib
    (which divides by zero), where Var v_k = 0. SAP = (1/K) Σ_k (S_(1),k − S_(2),k), the gap
    between the two largest scores over codes. The test split is only used by the discrete mode
    (a LinearSVC per code and factor), which is not available yet: `continuous_factors=False`
    raises `UserError`. Jittable (`continuous_factors` static) and vmappable over a leading
    population axis.
    """
    if not isinstance(continuous_factors, bool):
        raise UserError(
            f"continuous_factors must be a Python bool (static under jit), "
            f"got {continuous_factors!r}"
        )
    arrays = {
        "codes": jnp.asarray(codes),
        "factors": jnp.asarray(factors),
        "test_codes": jnp.asarray(test_codes),
        "test_factors": jnp.asarray(test_factors),
    }
    for name, x in arrays.items():
        _require_2d(name, x)
    codes, factors, test_codes, test_factors = arrays.values()
    _require_same_n("codes", codes, "factors", factors)
    _require_same_n("test_codes", test_codes, "test_factors", test_factors)
    if test_codes.shape[1] != codes.shape[1] or test_factors.shape[1] != factors.shape[1]:
        raise UserError(
            f"test_codes / test_factors need the columns of codes / factors, got "
            f"{test_codes.shape[1]} / {test_factors.shape[1]} for {codes.shape[1]} / "
            f"{factors.shape[1]}"
        )
    if codes.shape[1] < 2:
        raise UserError(f"sap needs at least 2 code dimensions L, got codes of shape {codes.shape}")
    if codes.shape[0] < 2 or factors.shape[1] < 1:
        raise UserError(
            f"sap needs at least 2 samples and one factor, got codes of shape {codes.shape} "
            f"and factors of shape {factors.shape}"
        )
    if not continuous_factors:
        raise UserError(
            "sap with continuous_factors=False (a LinearSVC per code and factor) is not available "
            "yet: it arrives with the classifier-based metrics; pass continuous_factors=True"
        )
    return _sap_continuous(_as_float(codes), _as_float(factors))


def _as_float(x):
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.float32)


def _centred(x):
    constant = jnp.max(x, axis=0) == jnp.min(x, axis=0)
    return jnp.where(constant, 0.0, x - (_tree_sum(x.T) / x.shape[0])[None, :])


@jax.jit
def _sap_continuous(codes, factors):
    n = codes.shape[0]
    z, v = _centred(codes).T, _centred(factors).T.astype(codes.dtype)  # [L, N], [K, N]
    var_z = _tree_sum(z * z) / (n - 1)
    var_v = _tree_sum(v * v) / (n - 1)
    cov = _tree_sum(z[:, None, :] * v[None, :, :]) / (n - 1)  # [L, K]
    denominator = var_z[:, None] * var_v[None, :]
    valid = (var_z[:, None] > 1e-12) & (var_v[None, :] > 0)
    score = jnp.where(valid, jnp.square(cov) / jnp.where(valid, denominator, 1.0), 0.0)
    top = jnp.sort(score, axis=0)
    return {"sap": _tree_sum(top[-1] - top[-2]) / score.shape[1]}
