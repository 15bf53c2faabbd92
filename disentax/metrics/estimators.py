"""Jittable classifiers for the classifier-based metrics: logistic regression, linear SVM, trees."""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from disentax.errors import UserError
from disentax.metrics.ordering import from_order_keys, order_keys

# --- labels ---


def encode_labels(y_train, y_test, num_classes: int):
    """Labels → class indices 0..C−1 of the sorted distinct training labels: `[N], [M] -> [N], [M]`.

    `num_classes` (static) is the number of distinct training labels; a test label that the
    training split lacks gets −1, which no classifier predicts.
    """
    classes = jnp.unique(y_train, size=num_classes, fill_value=jnp.max(y_train))

    def index(y):
        i = jnp.clip(jnp.searchsorted(classes, y), 0, num_classes - 1)
        return jnp.where(classes[i] == y, i, -1).astype(jnp.int32)

    return index(y_train), index(y_test)


def _one_hot(y, num_classes):
    return jax.nn.one_hot(y, num_classes, dtype=jnp.float32)


# --- logistic regression ---


def fit_logistic_regression(
    x_NxL,
    y_N,
    num_classes: int,
    *,
    C=1.0,
    weight_N=None,
    steps=30,
    tol=1e-4,
    cg_steps=20,
    init=None,
    coarse=1024,
):
    """L2 logistic regression as sklearn's `LogisticRegression(C=C)` solved to convergence,
    `-> (W, b)`.

    Minimises C·Σ_n w_n·CE(y_n, softmax(x_n W + b)) + ½‖W‖² (intercept unpenalised; C = ∞ for
    none) by Newton–CG, sklearn's "newton-cg" in outline: each step solves H d = −g by
    conjugate gradients with Hessian-vector products (H is never formed: O(N·L·C) per product),
    preconditioned by H's per-class diagonal blocks, to a relative residual
    min(½, √(‖g‖∞/‖g₀‖∞)) or `cg_steps` products, then halves the step until Armijo's condition
    holds, the objective's change summed from per-sample changes (`_cross_entropy_change`: the
    difference of two float32 objectives of size ~N cannot resolve the last steps at large N);
    it stops when ‖g‖∞ ≤ `tol`·‖g₀‖∞, when a step lowers the objective by less than 10⁻⁶ of its
    value at θ = 0 (g₀ the gradient there; unpenalised fits to separable data only creep
    towards their optimum at infinity), or after `steps` steps. For 2 classes it is sklearn's
    binary model: one column, logits (0, x·W + b); for C > 2 the multinomial model, W `[L, C]`.
    `weight_N` (default 1) weights samples, e.g. 0 to leave a fold out.

    Newton starts from `init` (W, b) when given (the stopping rules still measure from θ = 0);
    otherwise, when N ≥ 4·`coarse` and C is a finite Python number, from the fit of every s-th
    sample (s = ⌊N/`coarse`⌋) at C·s — the same problem at 1/s of the cost per step — which
    leaves a few full-size steps (unpenalised fits gain nothing from it: measured, and a
    subsample is more often separable).
    """
    n, dim = x_NxL.shape
    width = 1 if num_classes == 2 else num_classes
    one_hot = _one_hot(y_N, num_classes)
    targets = one_hot[:, 1:] if width == 1 else one_hot
    weight_N = jnp.ones(n, jnp.float32) if weight_N is None else weight_N
    a = jnp.concatenate([x_NxL, jnp.ones((n, 1), x_NxL.dtype)], axis=1)  # [N, L + 1]
    penalty = jnp.concatenate([jnp.full(dim, 1.0 / C), jnp.zeros(1)])[:, None]

    def modelled(p):  # the C' modelled columns of softmax(a θ) (sigmoid for one)
        return p[:, 1:] if width == 1 else p

    def gradient(theta, p):
        return a.T @ ((modelled(p) - targets) * weight_N[:, None]) + penalty * theta

    def newton_step(state):
        theta, logits, grad, _, i = state
        p_all = jax.nn.softmax(logits, axis=-1)
        p = modelled(p_all)
        wp = p * weight_N[:, None]

        def hessian_times(v):  # Σ_n w_n aₙ ⊗ (diag pₙ − pₙpₙᵀ)(aₙᵀv) + penalty ⊙ v
            z = a @ v
            return a.T @ (wp * z - wp * jnp.sum(p * z, axis=1, keepdims=True)) + penalty * v

        forcing = jnp.minimum(0.5, jnp.sqrt(jnp.max(jnp.abs(grad)) / scale))
        direction = _truncated_cg(
            hessian_times, -grad, _preconditioner(a, wp, p, penalty), forcing, cg_steps
        )
        slope = jnp.sum(grad * direction)
        logits_d = _logits(a, direction)
        log_p = jax.nn.log_softmax(logits, axis=-1)

        def change(t):  # objective(θ + t·d) − objective(θ), summed per sample
            ce = _cross_entropy_change(p_all, log_p, t * logits_d, one_hot)
            return jnp.sum(weight_N * ce) + t * jnp.sum(
                penalty * direction * (theta + 0.5 * t * direction)
            )

        t = lax.while_loop(
            lambda t: (change(t) > 1e-4 * t * slope) & (t > 1e-3), lambda t: 0.5 * t, 1.0
        )
        difference = change(t)
        t = jnp.where(difference <= 0, t, 0.0)  # no decrease (or NaN): stop
        theta = theta + t * direction
        logits = _logits(a, theta)
        decrease = jnp.where(t > 0, -difference, 0.0)
        return theta, logits, gradient(theta, jax.nn.softmax(logits, axis=-1)), decrease, i + 1

    def unconverged(state):
        _, _, grad, decrease, i = state
        return (i < steps) & (jnp.max(jnp.abs(grad)) > tol * scale) & (decrease > 1e-6 * start)

    theta = jnp.zeros((dim + 1, width), jnp.float32)
    scale = jnp.maximum(jnp.max(jnp.abs(gradient(theta, jax.nn.softmax(_logits(a, theta))))), 1e-30)
    start = jnp.sum(weight_N) * jnp.log(jnp.float32(num_classes))  # the objective at θ = 0
    if init is None and n >= 4 * coarse and isinstance(C, int | float) and np.isfinite(C):
        every = n // coarse
        init = fit_logistic_regression(
            x_NxL[::every],
            y_N[::every],
            num_classes,
            C=C * every,
            weight_N=weight_N[::every],
            steps=steps,
            tol=tol,
            cg_steps=cg_steps,
        )
    if init is not None:
        theta = jnp.concatenate([init[0], init[1][None, :]]).astype(jnp.float32)
    logits = _logits(a, theta)
    grad = gradient(theta, jax.nn.softmax(logits, axis=-1))
    state = (theta, logits, grad, start, 0)
    theta, *_ = lax.while_loop(unconverged, newton_step, state)
    return theta[:-1], theta[-1]


def _cross_entropy_change(p_NxC, log_p_NxC, delta_NxC, one_hot_NxC):
    """CE(z + δ) − CE(z) per sample `[N]` for logits z with softmax p: log Σ_c p_c e^{δ_c} − δ_y.

    Evaluated as log1p(Σ_c p_c expm1(δ_c)) while |Σ_c p_c expm1(δ_c)| < ½, which is exact to
    float32's precision of the change itself (the difference of two float32 objectives of size
    ~N resolves only ~10⁻⁷·N: Newton saw "no decrease" too soon at large N), else as
    logsumexp(log p + δ), which does not overflow.
    """
    s = jnp.sum(p_NxC * jnp.expm1(delta_NxC), axis=-1)  # NaN where e^δ overflows against p = 0
    small = jnp.abs(s) < 0.5
    log_mean = jnp.where(
        small,
        jnp.log1p(jnp.where(small, s, 0.0)),
        jax.nn.logsumexp(log_p_NxC + delta_NxC, axis=-1),
    )
    return log_mean - jnp.sum(one_hot_NxC * delta_NxC, axis=-1)


def _truncated_cg(matvec, b, precondition, rtol, maxiter):
    """x ≈ H⁻¹b by preconditioned conjugate gradients from x = 0, stopped at ‖r‖ ≤ rtol·‖b‖, after
    `maxiter` products, or — as sklearn's newton-cg — at a direction of curvature pᵀHp ≤ 3ε·‖p‖²
    (the Hessian of an unpenalised fit is singular along collinear features and along the
    softmax's shift of all classes; jax's `cg` divides by that curvature and returns NaN)."""
    threshold = jnp.square(rtol) * jnp.sum(b * b)
    eps = 3.0 * jnp.finfo(b.dtype).eps

    def go_on(state):
        _, r, _, _, i, done = state
        return (i < maxiter) & ~done & (jnp.sum(r * r) > threshold)

    def step(state):
        x, r, z, p, i, _ = state
        hp = matvec(p)
        curvature = jnp.sum(p * hp)
        flat = curvature <= eps * jnp.sum(p * p)
        alpha = jnp.where(flat, 0.0, jnp.sum(r * z) / jnp.where(flat, 1.0, curvature))
        x, r_new = x + alpha * p, r - alpha * hp
        z_new = precondition(r_new)
        beta = jnp.sum(r_new * z_new) / jnp.maximum(jnp.sum(r * z), 1e-30)
        return x, r_new, z_new, z_new + beta * p, i + 1, flat

    z = precondition(b)
    state = (jnp.zeros_like(b), b, z, z, 0, False)
    x = lax.while_loop(go_on, step, state)[0]
    return jnp.where(jnp.any(x != 0), x, z)  # flat at once: the preconditioned gradient


def _preconditioner(a_NxD, wp_NxC, p_NxC, penalty_Dx1):
    """r ↦ B⁻¹r for the per-class diagonal blocks B_c = Σ_n w_n p_nc(1 − p_nc) aₙaₙᵀ + diag(penalty)
    of the logistic Hessian (`[D, C]` columns; D ≤ 64, else only their diagonals), with a ridge
    of 10⁻⁴ × the mean diagonal over all classes: unpenalised blocks are singular (one-hot
    groups sum to the intercept column), and a float32 Cholesky fails beyond a condition number
    of about 10⁷; a class whose probabilities saturate (separable data: its curvature
    underflows) must not get an unbounded preconditioner either. The ridge only changes how
    fast conjugate gradients converge, not the Newton direction they converge to."""
    curvature = wp_NxC * (1.0 - p_NxC)
    dim = a_NxD.shape[1]
    if dim > 64:
        diagonal = jnp.square(a_NxD).T @ curvature + penalty_Dx1
        ridge = 1e-4 * jnp.mean(diagonal) + 1e-30
        return lambda r: r / (diagonal + ridge)
    blocks = jnp.einsum("nc,na,nb->cab", curvature, a_NxD, a_NxD)
    blocks = blocks + jnp.diag(penalty_Dx1[:, 0])
    ridge = 1e-4 * jnp.mean(jnp.trace(blocks, axis1=1, axis2=2)) / dim + 1e-30
    factor = jnp.linalg.cholesky(blocks + ridge * jnp.eye(dim))
    return lambda r: jax.vmap(
        lambda L, v: jax.scipy.linalg.cho_solve((L, True), v), in_axes=(0, 1), out_axes=1
    )(factor, r)


def _logits(x, W, b=0.0):
    z = x @ W + b
    return jnp.concatenate([jnp.zeros_like(z), z], axis=-1) if W.shape[1] == 1 else z


def logistic_regression_proba(params, x_NxL):
    """Class probabilities `[N, C]` of a fitted `fit_logistic_regression` model."""
    return jax.nn.softmax(_logits(x_NxL, *params), axis=-1)


def fit_logistic_regression_cv(x_NxL, y_N, num_classes: int, *, num_cs=10, folds=5):
    """sklearn `LogisticRegressionCV(Cs=num_cs, cv=KFold(folds))` (accuracy scoring), `-> (W, b)`.

    For each C in logspace(−4, 4, num_cs) and each contiguous fold f (sklearn's unshuffled
    KFold sizes), `fit_logistic_regression` on the other folds scores its accuracy on fold f; the
    first C with the highest mean accuracy is refitted on all samples. As sklearn, each fold
    walks the C path in increasing order, each fit starting from the previous C's solution
    (the folds of one C one after another by `lax.map`, each on its own training rows gathered
    and padded at weight 0 to one size: measured 5× less CPU time than a vmap over folds that
    weight all N rows), and the refit starts from the mean over folds of the best C's solutions.
    """
    n, dim = x_NxL.shape
    width = 1 if num_classes == 2 else num_classes
    sizes = np.full(folds, n // folds) + (np.arange(folds) < n % folds)
    fold_of = np.repeat(np.arange(folds), sizes)
    held_out_FxN = jnp.asarray(fold_of[None, :] == np.arange(folds)[:, None])
    # each fold's training rows, padded with row 0 at weight 0 to the largest training split
    rows = [np.flatnonzero(fold_of != f) for f in range(folds)]
    m = max(len(r) for r in rows)
    train_FxM = np.stack([np.pad(r, (0, m - len(r))) for r in rows])
    lengths = np.array([len(r) for r in rows])[:, None]
    weight_FxM = jnp.asarray(np.arange(m)[None, :] < lengths, jnp.float32)
    cs = jnp.logspace(-4.0, 4.0, num_cs)

    def fit_folds(params_F, c):
        def fit(train, weight, held_out, init):
            params = fit_logistic_regression(
                x_NxL[train], y_N[train], num_classes, C=c, weight_N=weight, init=init
            )
            correct = linear_predict(params, x_NxL) == y_N
            return params, jnp.sum(correct * held_out) / jnp.maximum(jnp.sum(held_out), 1)

        params_F, accuracy_F = lax.map(
            lambda fold: fit(*fold), (jnp.asarray(train_FxM), weight_FxM, held_out_FxN, params_F)
        )
        return params_F, (params_F, accuracy_F)

    start = (jnp.zeros((folds, dim, width)), jnp.zeros((folds, width)))
    _, (path, grid) = lax.scan(fit_folds, start, cs)  # path: [num_cs, folds, ...]
    best = jnp.argmax(jnp.mean(grid, axis=1))
    init = jax.tree.map(lambda p: jnp.mean(p[best], axis=0), path)
    return fit_logistic_regression(x_NxL, y_N, num_classes, C=cs[best], init=init)


# --- linear SVM on one feature ---


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
    counts = jnp.sum(_one_hot(y_N, num_classes), axis=0)
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


def linear_predict(params, x_NxL):
    """Class index `[N]` of a linear model `(W [L, C'], b [C'])`: the first c attaining
    max_c (x W + b)_c, or 1[x W + b > 0] for one column."""
    W, b = params
    z = x_NxL @ W + b
    if W.shape[1] == 1:
        return (z[:, 0] > 0).astype(jnp.int32)
    return first_max_index(z)


def first_max_index(z):
    """`jnp.argmax(z, axis=-1)` for non-NaN float z, `[..., C] -> int32 [...]`: the least index
    attaining the max, as a max and a min reduce (XLA:CPU runs argmax's variadic reduce several
    times slower)."""
    num = z.shape[-1]
    index = jnp.arange(num, dtype=jnp.float32)  # exact below 2^24
    at_top = z == jnp.max(z, axis=-1, keepdims=True)
    return jnp.min(jnp.where(at_top, index, num - 1.0), axis=-1).astype(jnp.int32)


# --- trees on binned features ---


def quantile_edges(x_NxF, num_bins: int):
    """Bin edges per feature `[F, num_bins − 1]`: midpoints between the sorted samples at the
    quantile positions ⌊jN/num_bins⌋ − 1 and ⌊jN/num_bins⌋; a feature with fewer distinct values
    than bins gets an edge between every pair of neighbouring values."""
    n = x_NxF.shape[0]
    s = from_order_keys(jnp.sort(order_keys(x_NxF.T), axis=1))  # [F, N]
    position = jnp.clip((jnp.arange(1, num_bins) * n) // num_bins, 1, n - 1)
    return 0.5 * (s[:, position - 1] + s[:, position])


def apply_bins(x_NxF, edges_FxE):
    """Bin index of each value: #{edges < x}, `[N, F] -> int32 [N, F]` in 0..num_bins−1."""
    return jax.vmap(lambda e, x: jnp.searchsorted(e, x, side="left"), in_axes=(0, 1), out_axes=1)(
        edges_FxE, x_NxF
    ).astype(jnp.int32)


def grow_tree(
    bins_NxF, level_gain, depth: int, num_bins: int, noise, feature_subset=None, schedule=None
):
    """A depth-`depth` binary tree grown level by level on binned features.

    At level d each of its 2^d nodes considers k features (all F, or k = `feature_subset` random
    ones); `level_gain(node [N], sample_bins [N, k], width) -> gain [width, k, num_bins]` scores
    each split (candidate j, left = bins ≤ t), −inf where invalid (see
    `squared_error_level_gain`, `entropy_level_gain`). A node takes its best split; exact ties
    between features are broken at random (as sklearn's random feature order), and a node whose
    best gain is not positive stays unsplit (all its samples go left). Returns (features,
    thresholds), a tuple of `[2^d]` arrays per level d, the importance Σ gain per feature `[F]`,
    and each sample's leaf `[N]` in 0..2^depth − 1.
    `noise` `[2, 2^depth − 1, F]` (uniform in [0, 1); rows 2^d − 1 .. 2^(d+1) − 2 for the nodes of
    level d) draws tie-breaks and feature subsets.
    `schedule` (static; default one level at a time) groups consecutive levels, a tuple of group
    sizes summing to `depth`: the levels of a group run in one loop over width = the nodes of its
    last level (nodes beyond a level's own 2^d hold no samples), so that each group compiles once.
    """
    n, num_features = bins_NxF.shape
    k = num_features if feature_subset is None else feature_subset

    # 1-D gathers from the flattened bins (sample n, feature f at rows[n] + f) cost less than
    # take_along_axis on [N, F]
    rows = jnp.arange(n)[:, None] * num_features
    flat_bins = jnp.asarray(bins_NxF).reshape(-1)

    def level(d, node, importance, width):
        tie, subset = lax.dynamic_slice_in_dim(noise, jnp.left_shift(1, d) - 1, width, axis=1)
        if feature_subset is None:
            candidates = jnp.broadcast_to(jnp.arange(num_features), (width, num_features))
        else:
            candidates = _smallest(subset, k)
            tie = jnp.take_along_axis(tie, candidates, axis=1)
        sample_bins = flat_bins[rows + candidates[node]]  # [N, k]
        gain = level_gain(node, sample_bins, width)  # [W, k, B]
        best_bin = first_max_index(gain)
        best_gain = jnp.max(gain, axis=2)  # [W, k]
        top = jnp.max(best_gain, axis=1, keepdims=True)
        choice = first_max_index(jnp.where(best_gain == top, tie, -1.0))
        gain_m = jnp.take_along_axis(best_gain, choice[:, None], axis=1)[:, 0]
        split = gain_m > 0
        feature = jnp.take_along_axis(candidates, choice[:, None], axis=1)[:, 0]
        threshold = jnp.where(
            split, jnp.take_along_axis(best_bin, choice[:, None], axis=1)[:, 0], num_bins - 1
        )
        importance = importance + jax.ops.segment_sum(
            jnp.where(split, gain_m, 0.0), feature, num_segments=num_features
        )
        chosen = flat_bins[rows[:, 0] + feature[node]]
        return 2 * node + (chosen > threshold[node]), importance, feature, threshold

    node = jnp.zeros(n, jnp.int32)
    importance = jnp.zeros(num_features, jnp.float32)
    features, thresholds = [], []
    first = 0
    for size in schedule or (1,) * depth:
        width = 2 ** (first + size - 1)
        if size == 1:
            node, importance, feature, threshold = level(first, node, importance, width)
            group = (feature[None], threshold[None])
        else:

            def step(i, carry, first=first, width=width):
                node, importance, group = carry
                node, importance, *split = level(first + i, node, importance, width)
                return (
                    node,
                    importance,
                    tuple(g.at[i].set(s) for g, s in zip(group, split, strict=True)),
                )

            empty = (jnp.zeros((size, width), jnp.int32), jnp.zeros((size, width), jnp.int32))
            node, importance, group = lax.fori_loop(0, size, step, (node, importance, empty))
        for i in range(size):
            features.append(group[0][i, : 2 ** (first + i)])
            thresholds.append(group[1][i, : 2 ** (first + i)])
        first += size
    return (tuple(features), tuple(thresholds)), importance, node


def _smallest(x_WxF, k: int):
    """Indices of the k smallest entries of each row, in increasing order, ties to the lower
    index: `jnp.argsort(x, stable=True)[:, :k]` by k passes of `first_max_index` (XLA:CPU's sort
    of 512 rows of 10 took 0.3 ms, as long as the rest of a deep level's bookkeeping)."""
    column = jnp.arange(x_WxF.shape[1])
    chosen = []
    for _ in range(k):
        index = first_max_index(-x_WxF)
        chosen.append(index)
        x_WxF = jnp.where(column == index[:, None], jnp.inf, x_WxF)
    return jnp.stack(chosen, axis=1)


def _uniform(key, shape):
    """`jax.random.uniform(key, shape)`, drawn flat and reshaped: the same values, and XLA:CPU
    compiles it in a fraction of the time (measured: 0.3 s instead of 7 s for 2·10^6 values in
    4 dimensions)."""
    return jax.random.uniform(key, (math.prod(shape),)).reshape(shape)


def tree_leaves(tree, bins_NxF):
    """Leaf index `[N]` of each binned sample in a `grow_tree` tree."""
    node = jnp.zeros(bins_NxF.shape[0], jnp.int32)
    for feature, threshold in zip(*tree, strict=True):
        value = jnp.take_along_axis(bins_NxF, feature[node][:, None], 1)[:, 0]
        node = 2 * node + (value > threshold[node])
    return node


def _cumulative_over_bins(hist):
    """Σ_{b' ≤ b} along axis 2 by an associative scan (XLA:CPU's cumsum is quadratic, a
    triangular matmul costs B multiply-adds per entry)."""
    return lax.associative_scan(jnp.add, hist, axis=2)


def _cumulative_counts(hist):
    """Σ_{b' ≤ b} along axis 2 of integer-valued counts (exact below 2^24), as one matmul with a
    triangular matrix: fewer operations to compile and run than `_cumulative_over_bins`."""
    b = hist.shape[2]
    below = jnp.triu(jnp.ones((b, b), jnp.float32))  # [b', b]: 1 where b' ≤ b
    spec = "wkbc,bt->wktc" if hist.ndim == 4 else "wkb,bt->wkt"
    summed = jnp.einsum(spec, hist.astype(jnp.float32), below, precision=lax.Precision.HIGHEST)
    return summed.astype(hist.dtype)


def squared_error_level_gain(stats_NxS, num_bins, node, sample_bins, width):
    """`grow_tree`'s level gain for regression trees on stats (g, 1) per sample (g centred): the
    between-node sum of squares of each split, from histograms of Σg and counts `[W, k, B, 2]`."""
    n, k = sample_bins.shape
    index = (node[:, None] * k + jnp.arange(k)) * num_bins + sample_bins
    hist = jax.ops.segment_sum(
        jnp.broadcast_to(stats_NxS[:, None, :], (n, k, 2)).reshape(-1, 2),
        index.reshape(-1),
        num_segments=width * k * num_bins,
    )
    left = _cumulative_over_bins(hist.reshape(width, k, num_bins, 2))
    return _squared_error_gain(left, left[:, :, -1:, :] - left)


def _squared_error_gain(left, right):
    """Between-node sum of squares S_l²/n_l + S_r²/n_r − S²/n from centred sums (stats = (g, 1))."""
    s_l, n_l, s_r, n_r = left[..., 0], left[..., 1], right[..., 0], right[..., 1]
    n = n_l + n_r
    gain = jnp.square(s_l * n_r - s_r * n_l) / jnp.maximum(n_l * n_r * n, 1.0)
    return jnp.where((n_l >= 1) & (n_r >= 1), gain, -jnp.inf)


# A level's entropy gains come from its dense class histogram [W, k, B, C] while W·B·(C + 2)
# is at most this many times N (measured: its cost grows as W·k·B·(C + 2), a sort's as N·k),
# else from a sort of the samples.
_DENSE_CELLS_PER_SAMPLE = 6


def _dense_entropy_levels(n, depth, num_bins, num_classes):
    """How many of the first levels of a tree of N samples use dense class histograms."""
    dense = [
        2**d * num_bins * (num_classes + 2) <= _DENSE_CELLS_PER_SAMPLE * n for d in range(depth)
    ]
    return dense.index(False) if False in dense else depth


def entropy_level_gain(labels_N, num_classes, num_bins, node, sample_bins, width):
    """`grow_tree`'s level gain for classification trees on samples of unit weight (bootstrap
    draws) with classes `labels_N`: the decrease of weighted entropy W·H = W log W − Σ_c W_c log W_c
    (nats) of each split. From the dense class histogram `[W, k, B, C]` while W·B·(C + 2) ≤
    `_DENSE_CELLS_PER_SAMPLE`·N, else by `_sorted_entropy_gain`."""
    n, k = sample_bins.shape
    if width * num_bins * (num_classes + 2) > _DENSE_CELLS_PER_SAMPLE * n:
        return _sorted_entropy_gain(labels_N, num_classes, num_bins, node, sample_bins, width)
    index = (node[:, None] * k + jnp.arange(k)) * num_bins + sample_bins
    hist = jax.ops.segment_sum(
        jnp.ones(n * k, jnp.float32),
        (index * num_classes + labels_N[:, None]).reshape(-1),
        num_segments=width * k * num_bins * num_classes,
    )
    left = _cumulative_counts(hist.reshape(width, k, num_bins, num_classes))
    return _entropy_gain(left, left[:, :, -1:, :] - left)


def _entropy_gain(left, right):
    """Decrease of weighted entropy W·H = W log W − Σ_c W_c log W_c (nats) from a split of each
    node (stats = weighted class counts `[W, k, B, C]`); the parent's W_c are the sums at the
    last bin, evaluated once per node."""

    def x_log_x(x):
        return jax.scipy.special.xlogy(x, x)

    n_left, n_right = jnp.sum(left, axis=-1), jnp.sum(right, axis=-1)
    parent = left[..., -1:, :] + right[..., -1:, :]
    gain = (
        x_log_x(n_left + n_right)
        - jnp.sum(x_log_x(parent), axis=-1)
        - x_log_x(n_left)
        + jnp.sum(x_log_x(left), axis=-1)
        - x_log_x(n_right)
        + jnp.sum(x_log_x(right), axis=-1)
    )
    return jnp.where((n_left >= 1) & (n_right >= 1), gain, -jnp.inf)


def _sorted_entropy_gain(labels_N, num_classes, num_bins, node, sample_bins, width):
    """`entropy_level_gain` from one sort of the (sample, candidate) pairs, `-> [W, k, B]`.

    With unit weights, Σ_c x log x over the left class counts L_c(t) telescopes over the samples
    left of t: Σ_c L_c log L_c = Σ_{n: bin ≤ t} Δ(r_n), where r_n is sample n's 1-based rank
    among the samples of its node and class in bin order and Δ(r) = r log r − (r − 1) log(r − 1);
    likewise the right counts give Σ_c P_c log P_c − Σ_{n: bin ≤ t} Δ(P_c − r_n + 1) (P_c: the
    node's count of class c). Hence gain(t) = X(P) − X(n_l) − X(n_r) + Σ_{n: bin ≤ t}
    (Δ(r_n) − Δ(P_c − r_n + 1)), X(m) = m log m, P = n_l + n_r. Sorting by (node, candidate,
    class, bin) gives the ranks; the per-bin sums are histograms `[W, k, B]` (no class axis).
    """
    n, k = sample_bins.shape
    cells = width * k * num_classes
    cell = (node[:, None] * k + jnp.arange(k)) * num_classes + labels_N[:, None]  # [N, k]
    if cells * num_bins <= 2**31 - 1:
        key = jnp.sort((cell * num_bins + sample_bins).reshape(-1))
        cell, bin_ = key // num_bins, key % num_bins
    else:
        cell, bin_ = lax.sort((cell.reshape(-1), sample_bins.reshape(-1)), num_keys=2)
    position = jnp.arange(n * k, dtype=jnp.int32)
    first = jax.ops.segment_min(position, cell, num_segments=cells)
    count = jax.ops.segment_sum(jnp.ones_like(position), cell, num_segments=cells)
    rank = position - first[cell] + 1
    x_log_x, delta = map(jnp.asarray, _x_log_x_tables(n))
    value = delta[rank] - delta[count[cell] - rank + 1]
    index = (cell // num_classes) * num_bins + bin_
    shape = (width, k, num_bins)
    summed = _cumulative_over_bins(
        jax.ops.segment_sum(value, index, width * k * num_bins).reshape(shape)
    )
    n_left = _cumulative_counts(
        jax.ops.segment_sum(jnp.ones_like(position), index, width * k * num_bins).reshape(shape)
    )
    total = n_left[:, :, -1:]
    gain = x_log_x[total] - x_log_x[n_left] - x_log_x[total - n_left] + summed
    return jnp.where((n_left >= 1) & (total - n_left >= 1), gain, -jnp.inf)


@functools.cache
def _x_log_x_tables(n):
    """X(m) = m log m and Δ(m) = X(m) − X(m − 1) (Δ(0) = 0) for m = 0..n, float32 `[n + 1]` each,
    computed in float64."""
    m = np.arange(n + 1, dtype=np.float64)
    x_log_x = m * np.log(np.maximum(m, 1.0))
    delta = np.concatenate([[0.0], np.diff(x_log_x)])
    return x_log_x.astype(np.float32), delta.astype(np.float32)


# --- gradient-boosted trees ---


@functools.partial(jax.jit, static_argnames=("num_classes", "num_stages", "depth", "num_bins"))
def fit_gbt(
    x_NxF,
    y_N,
    key,
    num_classes: int,
    *,
    num_stages: int = 100,
    learning_rate: float = 0.1,
    depth: int = 3,
    num_bins: int = 256,
):
    """sklearn `GradientBoostingClassifier()` (log loss, 100 stages, lr 0.1, depth 3) on
    `num_bins` quantile bins: `-> (model, feature_importances [F])`.

    Raw scores start at the log class priors; each stage fits one regression tree per class
    (one tree for 2 classes) to the residuals g = 1[y = c] − p_c by squared-error splits, and
    each leaf adds lr·ρ·Σg / Σp(1 − p), ρ = (C − 1)/C for C > 2 classes, 1 for 2. Importances are
    sklearn's: per tree Σ over splits of the between-node sum of squares / N, averaged over trees
    that split, normalised to sum 1 (0 if no tree splits).
    """
    edges = quantile_edges(x_NxF, num_bins)
    bins = apply_bins(x_NxF, edges)
    n = x_NxF.shape[0]
    trees_per_stage = 1 if num_classes == 2 else num_classes
    targets = _one_hot(y_N, num_classes)
    prior = jnp.maximum(jnp.mean(targets, axis=0), 1e-12)
    if num_classes == 2:
        raw0 = jnp.log(prior[1:] / prior[:1])
        targets = targets[:, 1:]
    else:
        raw0 = jnp.log(prior)
    rho = 1.0 if num_classes == 2 else (num_classes - 1.0) / num_classes
    num_leaves = 2**depth

    def one_tree(g, hess, noise):
        centred = g - jnp.mean(g)
        gain = functools.partial(
            squared_error_level_gain, jnp.stack([centred, jnp.ones(n)], 1), num_bins
        )
        tree, importance, leaf = grow_tree(bins, gain, depth, num_bins, noise)
        numerator = jax.ops.segment_sum(g, leaf, num_segments=num_leaves)
        denominator = jax.ops.segment_sum(hess, leaf, num_segments=num_leaves)
        safe = jnp.abs(denominator) > 1e-30
        value = (
            learning_rate * rho * jnp.where(safe, numerator / jnp.where(safe, denominator, 1), 0)
        )
        return tree, value, importance / n, value[leaf]

    def stage(raw, noise):
        p = _probabilities(raw)
        g = targets - p
        tree, value, importance, update = jax.vmap(one_tree, in_axes=(1, 1, 0))(
            g, p * (1 - p), noise
        )
        return raw + update.T, (tree, value, importance)

    raw = jnp.broadcast_to(raw0, (n, trees_per_stage))
    noise = _uniform(key, (num_stages, trees_per_stage, 2, 2**depth - 1, x_NxF.shape[1]))
    _, (trees, values, importances) = lax.scan(stage, raw, noise)
    relevant = jnp.sum(importances, axis=-1) > 0  # trees whose root split
    mean = jnp.sum(importances * relevant[..., None], axis=(0, 1)) / jnp.maximum(
        jnp.sum(relevant), 1
    )
    total = jnp.sum(mean)
    feature_importances = jnp.where(total > 0, mean / jnp.where(total > 0, total, 1.0), 0.0)
    return (edges, raw0, trees, values), feature_importances


def _probabilities(raw):
    if raw.shape[1] == 1:
        return jax.nn.sigmoid(raw)
    return jax.nn.softmax(raw, axis=1)


@jax.jit
def gbt_predict(model, x_NxF):
    """Class index `[N]` of a `fit_gbt` model: argmax of the summed raw scores (> 0 if one)."""
    edges, raw0, trees, values = model
    bins = apply_bins(x_NxF, edges)

    def stage(raw, tree_and_values):
        tree, value = tree_and_values
        leaves = jax.vmap(tree_leaves, in_axes=(0, None))(tree, bins)  # [T, N]
        return raw + jnp.take_along_axis(value, leaves, axis=1).T, None

    raw, _ = lax.scan(
        stage, jnp.broadcast_to(raw0, (x_NxF.shape[0], raw0.shape[0])), (trees, values)
    )
    return (raw[:, 0] > 0).astype(jnp.int32) if raw.shape[1] == 1 else jnp.argmax(raw, axis=1)


# --- random forest ---


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
    dense = _dense_entropy_levels(n, depth, num_bins, num_classes)
    schedule = (3,) * (dense // 3) + ((dense % 3,) if dense % 3 else ())
    schedule += (depth - dense,) if depth > dense else ()

    boot_key, noise_key = jax.random.split(key)
    draws = jax.random.randint(boot_key, (num_trees, n), 0, n)
    noise = _uniform(noise_key, (num_trees, 2, 2**depth - 1, num_features))

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


# --- options shared by the classifier-based metrics ---


def class_counts(metric, factors, num_classes):
    """Distinct training labels per factor as static ints: from the values of `factors` `[N, K]`
    outside jit, else from `num_classes` (an int or one int per factor)."""
    k = factors.shape[1]
    if num_classes is None:
        if isinstance(factors, jax.core.Tracer):
            raise UserError(
                f"{metric} under jit/vmap with traced factors needs num_classes= (the number of "
                f"distinct values of each factor, static); or pass the factors unbatched"
            )
        values = np.asarray(factors)
        return tuple(len(np.unique(values[:, j])) for j in range(k))
    counts = (num_classes,) * k if isinstance(num_classes, int) else tuple(num_classes)
    if len(counts) != k or not all(isinstance(c, int) and c >= 1 for c in counts):
        raise UserError(
            f"num_classes must be a positive int or {k} positive ints, got {num_classes!r}"
        )
    return counts


def require_sklearn(metric):
    """The sklearn module for `mode="reference"`, or a one-line `UserError` saying how to get it."""
    try:
        import sklearn  # noqa: F401
    except ImportError as error:
        raise UserError(
            f'{metric} with mode="reference" needs scikit-learn: pip install scikit-learn'
        ) from error
    return sklearn


def check_choice(name, value, allowed):
    """A one-line `UserError` unless `value` is one of `allowed`."""
    if value not in allowed:
        raise UserError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
