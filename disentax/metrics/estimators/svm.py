"""A linear SVM on one feature, as sklearn's `LinearSVC(class_weight="balanced")`, solved exactly
over the sorted feature's thresholds."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from disentax.metrics.estimators.encoding import one_hot_classes
from disentax.metrics.ordering import from_order_keys, order_keys


def sorted_feature(x_N):
    """One feature prepared for `fit_sorted_svc`: `[N] -> (d [N], rank [N] int32, μ, M [N + 1, 3])`.

    d = the values ascending, centred at μ = mean(x) (the moments lose less to rounding); rank_n
    = the first position of x_n's value in d (tied values share it); M = the prefix sums
    M_j = Σ_{m < j} (1, d_m, d_m²). Sorted as int32 keys, with a binary search for ranks (XLA:CPU
    sorts floats and key-value pairs several times slower).
    """
    mu = jnp.mean(x_N)
    x_keys = order_keys(x_N)
    sorted_keys = jnp.sort(x_keys)
    rank = jnp.searchsorted(sorted_keys, x_keys).astype(jnp.int32)
    d_sorted = from_order_keys(sorted_keys) - mu
    return d_sorted, rank, mu, _prefix_moments(d_sorted)


def _prefix_moments(d_N):
    moments = jnp.stack([jnp.ones_like(d_N), d_N, d_N * d_N], axis=1)
    return jnp.concatenate([jnp.zeros((1, 3)), cumulative_sum(moments)])  # [N + 1, 3]


@functools.partial(jax.jit, static_argnames=("num_classes", "steps"))
def fit_linear_svc_1d(x_N, y_N, num_classes: int, *, C=0.01, steps=30):
    """sklearn `LinearSVC(C=C, class_weight="balanced")` (liblinear, squared hinge) on one
    feature, `-> (W [1, C'], b [C'])`: `fit_sorted_svc(sorted_feature(x_N), ...)`."""
    return fit_sorted_svc(sorted_feature(x_N), y_N, num_classes, C=C, steps=steps)


def fit_sorted_svc(feature, y_N, num_classes: int, *, C=0.01, steps=30):
    """sklearn `LinearSVC(C=C, class_weight="balanced")` (liblinear, squared hinge) on one
    feature given as `sorted_feature(x)`, labels `[N]` in 0..C−1, `-> (W [1, C'], b [C'])`.

    Per one-vs-rest problem c (one problem, class 1 vs 0, for 2 classes) with s_n = ±1 and
    θ = (w, b) (liblinear penalises the intercept): min ½‖θ‖² + Σ_n C_n max(0, 1 − s_n(w x_n + b))².
    Balanced class weights ω_c = N / (C·N_c) as sklearn; liblinear gives the positives C·ω_c and,
    for more than 2 classes, the rest C (for 2 classes each sample C·ω of its class).
    With one feature the active samples of a class are those below (or above) a threshold, so
    the objective is a quadratic on each cell of thresholds, from prefix sums of (1, d, d²) over
    the samples sorted by (class, x): each evaluation costs two binary searches, whatever N.
    Generalised Newton: from θ = 0, each step minimises the quadratic of the current cell and is
    halved until Armijo's condition holds; it stops at the optimum, when a full step lands in
    the cell it was computed from (its minimiser is then f's), when a step moves θ by less than
    10⁻⁷ (relative) or is halved below 2⁻⁷ (float32 rounding), or after `steps` evaluations.
    """
    d_sorted, rank, mu, every = feature
    n = d_sorted.shape[0]
    counts = jnp.sum(one_hot_classes(y_N, num_classes), axis=0)
    omega = n / (num_classes * jnp.maximum(counts, 1.0))
    key = jnp.sort(y_N * n + rank)  # (class, rank of x), increasing
    d_by_class = d_sorted[key % n]
    by_class = _prefix_moments(d_by_class)
    class_start = jnp.searchsorted(key, jnp.arange(num_classes + 1) * n).astype(jnp.int32)
    values = jnp.stack([d_sorted, d_by_class])  # the two sorted lists the thresholds search

    if num_classes == 2:
        positive = jnp.ones(1, jnp.int32)
        cost_pos, cost_neg = C * omega[1:], C * omega[:1]
    else:
        positive = jnp.arange(num_classes)
        cost_pos, cost_neg = C * omega, jnp.full(num_classes, C)

    def problem(c, kappa_pos, kappa_neg):
        # θ' = (w, β) with β = b + μ w, so that w x + b = w d + β; ½‖θ‖² = ½ θ'ᵀ R θ'
        R = jnp.array([[1.0 + mu * mu, -mu], [-mu, 1.0]])
        start, stop = class_start[c], class_start[c + 1]
        class_total = by_class[stop] - by_class[start]
        rest_total = every[n] - class_total

        def active(theta):
            """Cost-weighted moments of the active positives (w d < 1 − β) and negatives
            (w d > −1 − β), `[2, 3]`."""
            w, beta = theta
            t = jnp.stack([1.0 - beta, -1.0 - beta]) / jnp.where(w == 0, 1.0, w)
            # w > 0: positives d < t⁺, negatives d > t⁻ (the rest of d ≤ t⁻); w < 0: mirrored
            inclusive = jnp.stack([w < 0, w > 0])
            below = _count_below(values, start, stop, t, inclusive)  # [list, threshold]
            in_class = by_class[below[1]] - by_class[start]  # [threshold, 3]
            in_rest = every[below[0]] - in_class
            pos = jnp.where(
                w > 0,
                in_class[0],
                jnp.where(w < 0, class_total - in_class[0], class_total * (beta < 1.0)),
            )
            neg = jnp.where(
                w > 0,
                rest_total - in_rest[1],
                jnp.where(w < 0, in_rest[1], rest_total * (beta > -1.0)),
            )
            return jnp.stack([kappa_pos * pos, kappa_neg * neg])

        def newton(theta, m):
            """Objective, gradient and Newton direction in θ' from the active moments m."""
            w, beta = theta
            (p0, p1, p2), (q0, q1, q2) = m
            u, v = 1.0 - beta, 1.0 + beta
            loss = (
                u * u * p0 - 2 * u * w * p1 + w * w * p2 + v * v * q0 + 2 * v * w * q1 + w * w * q2
            )
            grad = R @ theta + 2.0 * jnp.stack(
                [w * (p2 + q2) - u * p1 + v * q1, w * (p1 + q1) - u * p0 + v * q0]
            )
            hessian = R + 2.0 * jnp.array([[p2 + q2, p1 + q1], [p1 + q1, p0 + q0]])
            return 0.5 * theta @ R @ theta + loss, grad, -_solve_2x2(hessian, grad)

        def step(state):
            theta, m, value, grad, direction, size, i, _ = state
            candidate = theta + size * direction
            m_new = active(candidate)
            value_new, grad_new, direction_new = newton(candidate, m_new)
            # the optimum, whatever the objective's float32 rounding says: a full step into
            # the cell it was computed from, or a candidate whose own Newton step is ≤ 10⁻⁶
            optimal = ((size == 1.0) & jnp.all(m_new == m)) | (
                jnp.max(jnp.abs(direction_new) / (1.0 + jnp.abs(candidate))) <= 1e-6
            )
            accept = optimal | (value_new <= value + 1e-4 * size * (grad @ direction))
            change = jnp.max(jnp.abs(size * direction) / (1.0 + jnp.abs(theta)))
            done = optimal | (accept & (change <= 1e-7)) | (~accept & (size <= 2.0**-7))
            pick = functools.partial(jnp.where, accept)
            return (
                pick(candidate, theta),
                pick(m_new, m),
                pick(value_new, value),
                pick(grad_new, grad),
                pick(direction_new, direction),
                pick(1.0, 0.5 * size),
                i + 1,
                done,
            )

        def going(state):
            return (state[6] < steps) & ~state[7]

        theta = jnp.zeros(2)
        m = active(theta)
        state = (theta, m, *newton(theta, m), jnp.float32(1.0), 0, False)
        w, beta = lax.while_loop(going, step, state)[0]
        return w, beta - mu * w

    w, b = jax.vmap(problem)(positive, cost_pos, cost_neg)
    return w[None, :], b


def _count_below(values_2xN, start, stop, t, inclusive):
    """Binary searches of thresholds `t [T]` in two ascending lists: row 0 of `values` whole and
    row 1 in [start, stop); the position of the first value ≥ t (> t where `inclusive [T]`),
    `-> [2, T]` int32."""
    n = values_2xN.shape[1]
    lo = jnp.stack([jnp.zeros_like(t, jnp.int32), jnp.full(t.shape, start, jnp.int32)])
    hi = jnp.stack([jnp.full(t.shape, n, jnp.int32), jnp.full(t.shape, stop, jnp.int32)])

    def halve(_, bounds):
        lo, hi = bounds
        mid = (lo + hi) // 2
        at = jnp.take_along_axis(values_2xN, jnp.minimum(mid, n - 1), axis=1)
        right = (mid < hi) & ((at < t) | (inclusive & (at == t)))
        return jnp.where(right, mid + 1, lo), jnp.where(right, hi, mid)

    return lax.fori_loop(0, n.bit_length(), halve, (lo, hi))[0]


def cumulative_sum(x_NxS):
    """Σ_{m ≤ n} x_m per column, `[N, S] -> [N, S]`, as two triangular matmuls over √N-blocks
    (XLA:CPU's cumsum is quadratic in N and `lax.associative_scan` compiles for seconds)."""
    n, width = x_NxS.shape
    block = max(1, int(np.ceil(np.sqrt(n))))
    rows = -(-n // block)
    blocks = jnp.pad(x_NxS, ((0, rows * block - n), (0, 0))).reshape(rows, block, width)
    within = jnp.einsum("ij,rjs->ris", jnp.tril(jnp.ones((block, block), x_NxS.dtype)), blocks)
    before = jnp.tril(jnp.ones((rows, rows), x_NxS.dtype), k=-1) @ within[:, -1, :]
    return (within + before[:, None, :]).reshape(rows * block, width)[:n]


def _solve_2x2(matrix, vector):
    """`matrix⁻¹ vector` for a 2 × 2 system, in closed form."""
    (a, b), (c, d) = matrix
    return jnp.stack([d * vector[0] - b * vector[1], a * vector[1] - c * vector[0]]) / (
        a * d - b * c
    )
