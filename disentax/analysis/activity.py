"""Passive, mixed and active latent variables from a Gaussian encoder's variances over inputs."""

import jax.numpy as jnp

from disentax.errors import UserError


def variable_types(logvar_NxL, *, var_threshold: float = 0.1, mean_error_range: float = 0.1):
    """Multi-example selective posterior collapse (Bonheme & Grześ 2023, "Be More Active!"):
    `logvar [N, L]` (log σ_j²(x_n) of N inputs) -> dict of `[L]` arrays.

    With σ² = exp(logvar), m_j = E_x[σ_j²] and v_j = Var_x[σ_j²] (sample mean and variance over
    the N inputs, ddof = 0), t = `var_threshold` and r = `mean_error_range`:
    - passive: v_j < t and 1 − r ≤ m_j ≤ 1 + r (the posterior stays at the prior N(0, 1));
    - active: v_j < t and m_j ≤ r (the posterior is sharp for every input);
    - mixed: every other variable.
    Returns {"passive", "mixed", "active": bool `[L]`, "variance_mean": m `[L]`,
    "variance_var": v `[L]`}. The thresholds are those of the paper's code (`variables_idx` in
    bonheml/tc_study, `tc_study/experiment/variables_filter.py`: var_threshold = 0.1,
    mean_error_range = 0.1). Jittable and vmappable over a leading population axis.
    """
    logvar_NxL = jnp.asarray(logvar_NxL)
    if logvar_NxL.ndim != 2:
        raise UserError(f"logvar must be 2-D [N, L], got shape {tuple(logvar_NxL.shape)}")
    if not var_threshold > 0:
        raise UserError(f"var_threshold must be positive, got {var_threshold}")
    if not 0 < mean_error_range < 0.5:
        raise UserError(
            f"mean_error_range must be in (0, 0.5) so that passive and active are disjoint, "
            f"got {mean_error_range}"
        )
    variance = jnp.exp(logvar_NxL.astype(jnp.float32))
    m, v = jnp.mean(variance, axis=0), jnp.var(variance, axis=0)
    steady = v < var_threshold
    passive = steady & (1 - mean_error_range <= m) & (m <= 1 + mean_error_range)
    active = steady & (m <= mean_error_range)
    return {
        "passive": passive,
        "mixed": ~(passive | active),
        "active": active,
        "variance_mean": m,
        "variance_var": v,
    }
