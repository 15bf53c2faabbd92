"""Closed forms of deep linear JEPA and MAE per feature (derived here; the paper's own formulas
were not retrieved, NOTES.md "Theory").

Feature i of paired views (x, y) has the second moments E[x_i²] = σ_i², E[y_i x_i] = λ_i (the
covariance) and ρ_i = λ_i / σ_i² (the regression coefficient of y_i on x_i). The encoder is
W̄ = W_L ⋯ W_1 and the predictor (JEPA) or decoder (MAE) V, all d × d; the losses

    JEPA  ½ E‖V W̄ x − SG(W̄ y)‖²        MAE  ½ E‖V W̄ x − y‖².

From the balanced aligned start W_a = ε^{1/L} U_a U_{a−1}ᵀ (U_0 = U_L = I), V = ε^{1/L} I,
gradient flow keeps every layer's singular value a_i on feature i equal to the predictor's
(W_{a+1}ᵀW_{a+1} − W_a W_aᵀ and VᵀV − W_L W_Lᵀ are conserved), so each feature follows one
scalar ODE, with time t = steps × learning rate:

    JEPA  ȧ = λ a^{2L} (1 − a/ρ)            a → ρ,            gain ‖W̄ e_i‖ = a^L → ρ^L
    MAE   ȧ = λ a^L (1 − a^{L+1}/ρ)         a → ρ^{1/(L+1)},  gain → ρ^{L/(L+1)}

Near the start (a ≪ ρ) both grow at the rate λ; ρ enters JEPA's time at relative order a/ρ, and
a deeper encoder starts nearer ρ (a_0 = ε^{1/L}) and sums more such terms, so its bias towards
high ρ grows with L; MAE's ρ terms are of relative order a^{L+1}/ρ. The critical time t*_i is
the time at which the gain reaches `fraction` (½) of its limit.
"""

import math

import numpy as np
from scipy import integrate

OBJECTIVES = ("jepa", "mae")
DATA_MODELS = ("static", "dynamic")


def moments(model: str, signal_var, noise_var, gamma=None) -> dict[str, np.ndarray]:
    """(λ, σ², ρ) per feature of the two generative models, from the latent variance s², the
    per-view noise variance σ_n² and (dynamic) the AR(1) coefficient γ:

        static   x = z + n, y = z + n′                          λ = s²,   σ² = s² + σ_n²
        dynamic  x = z_t + n_t, y = z_{t+1} + n_{t+1},
                 z_{t+1} = γ z_t + √(1−γ²) s ξ                  λ = γ s², σ² = s² + σ_n²

    with z ~ N(0, s²) and n, n′, ξ standard-scaled independent Gaussians; ρ = λ/σ²."""
    s2 = np.asarray(signal_var, np.float64)
    n2 = np.asarray(noise_var, np.float64)
    if model == "static":
        g = np.ones_like(s2)
    elif model == "dynamic":
        g = np.asarray(gamma, np.float64)
    else:
        raise ValueError(f"unknown data model {model!r}; known: {', '.join(DATA_MODELS)}")
    lam, sigma2 = g * s2, s2 + n2
    return {"lam": lam, "sigma2": sigma2, "rho": lam / sigma2}


def layer_limit(objective: str, rho: float, depth: int) -> float:
    """The per-layer singular value a_∞ the flow converges to (ρ for JEPA, ρ^{1/(L+1)} MAE)."""
    _check(objective, depth)
    return rho if objective == "jepa" else rho ** (1.0 / (depth + 1))


def gain_limit(objective: str, rho: float, depth: int) -> float:
    """The encoder's final gain on the feature, ‖W̄ e_i‖ = a_∞^L."""
    return layer_limit(objective, rho, depth) ** depth


def rate(objective: str, a, lam: float, rho: float, depth: int):
    """ȧ of the per-feature ODE (module docstring), per unit of time (= steps × lr)."""
    _check(objective, depth)
    a = np.asarray(a, np.float64)
    if objective == "jepa":
        return lam * a ** (2 * depth) * (1.0 - a / rho)
    return lam * a**depth * (1.0 - a ** (depth + 1) / rho)


def critical_time(
    objective: str, lam: float, rho: float, depth: int, init_scale: float, fraction: float = 0.5
) -> float:
    """t*: the time at which the gain a^L, from a_0 = ε^{1/L} (ε = `init_scale`, the encoder's
    initial gain), reaches `fraction` of its limit; 0 when it starts above that.

    JEPA in closed form (partial fractions of 1/(a^{2L}(1 − a/ρ))), with k = 0..2L−2:

        λ t(a) = Σ_k (a_0^{k+1−2L} − a^{k+1−2L}) / ((2L−1−k) ρ^k)
                 + ρ^{1−2L} [ln(a/a_0) + ln((ρ − a_0)/(ρ − a))];

    MAE by quadrature of dt = da / ȧ (the same integral, `time_to`)."""
    a0 = init_scale ** (1.0 / depth)
    target = layer_limit(objective, rho, depth) * fraction ** (1.0 / depth)
    if a0 >= target:
        return 0.0
    if objective == "mae":
        return time_to(objective, lam, rho, depth, a0, target)
    two_l = 2 * depth
    total = sum(
        (a0 ** (k + 1 - two_l) - target ** (k + 1 - two_l)) / ((two_l - 1 - k) * rho**k)
        for k in range(two_l - 1)
    )
    total += rho ** (1 - two_l) * (math.log(target / a0) + math.log((rho - a0) / (rho - target)))
    return total / lam


def time_to(objective: str, lam: float, rho: float, depth: int, a0: float, a1: float) -> float:
    """∫_{a0}^{a1} da / ȧ(a) by adaptive quadrature (the exact flow time from a0 to a1)."""
    value, _ = integrate.quad(
        lambda a: 1.0 / rate(objective, a, lam, rho, depth), a0, a1, limit=400, epsrel=1e-10
    )
    return value


def critical_steps(
    objective: str,
    lam: float,
    rho: float,
    depth: int,
    init_scale: float,
    learning_rate: float,
    fraction: float = 0.5,
) -> float:
    """t* in gradient-descent steps: t*/η plus the first-order correction of the Euler map
    a ← a + η ȧ(a), whose modified equation ȧ = f − (η/2) f f′ gives, from a_0 to a*,

        steps = t*/η + ½ ln(f(a*)/f(a_0))     (f = ȧ; exact for f = λa: ln(a*/a_0)/ln(1 + ηλ)
                                               to O(η²)).

    In the aligned balanced start every layer and the predictor share the value a on a feature
    and receive the same update, so gradient descent on the whole model is this scalar map."""
    t = critical_time(objective, lam, rho, depth, init_scale, fraction)
    if t == 0.0:
        return 0.0
    a0 = init_scale ** (1.0 / depth)
    target = layer_limit(objective, rho, depth) * fraction ** (1.0 / depth)
    ratio = rate(objective, target, lam, rho, depth) / rate(objective, a0, lam, rho, depth)
    return t / learning_rate + 0.5 * math.log(ratio)


def map_steps(
    objective: str,
    lam: float,
    rho: float,
    depth: int,
    init_scale: float,
    learning_rate: float,
    fraction: float = 0.5,
    max_steps: int = 10**7,
) -> float:
    """The scalar map a ← a + η ȧ(a) iterated from a_0 until the gain a^L reaches `fraction`
    of its limit: the step, interpolated linearly in the gain (exact gradient descent on the
    aligned model, up to float rounding)."""
    a = init_scale ** (1.0 / depth)
    level = fraction * gain_limit(objective, rho, depth)
    if a**depth >= level:
        return 0.0
    for k in range(1, max_steps):
        before, a = a, a + learning_rate * float(rate(objective, a, lam, rho, depth))
        if a**depth >= level:
            return k - 1 + (level - before**depth) / (a**depth - before**depth)
    return math.inf


def leading_time(objective: str, lam: float, depth: int, init_scale: float) -> float:
    """The ε → 0 limit of t*, in which ρ drops out: JEPA ε^{−(2L−1)/L} / ((2L−1) λ); MAE
    ε^{−(L−1)/L} / ((L−1) λ) for L ≥ 2 and ln(1/ε)/λ for L = 1 (the fraction enters at O(1))."""
    _check(objective, depth)
    if objective == "jepa":
        n = 2 * depth - 1
        return init_scale ** (-n / depth) / (n * lam)
    if depth == 1:
        return math.log(1.0 / init_scale) / lam
    return init_scale ** (-(depth - 1) / depth) / ((depth - 1) * lam)


def crossing_time(steps, values, level: float) -> float:
    """The first step at which `values` reaches `level`, interpolated linearly between logged
    steps; +inf when it never does (`steps`, `values`: a logged trajectory, `[T]`)."""
    steps = np.asarray(steps, np.float64)
    values = np.asarray(values, np.float64)
    above = np.flatnonzero(values >= level)
    if above.size == 0:
        return math.inf
    j = int(above[0])
    if j == 0:
        return float(steps[0])
    s0, s1, v0, v1 = steps[j - 1], steps[j], values[j - 1], values[j]
    return float(s0 + (level - v0) / (v1 - v0) * (s1 - s0))


def _check(objective: str, depth: int) -> None:
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; known: {', '.join(OBJECTIVES)}")
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
