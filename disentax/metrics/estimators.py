"""Jittable classifiers for the classifier-based metrics: logistic regression, linear SVM, trees."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from disentax.errors import UserError
from disentax.metrics.mig import _from_order_keys, _order_keys

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
    holds; it stops when ‖g‖∞ ≤ `tol`·‖g₀‖∞, when a step lowers the objective by less than
    10⁻⁶ of its value at θ = 0 (g₀ the gradient there; float32 resolves little more, and
    unpenalised fits to separable data only creep towards their optimum at infinity), or after
    `steps` steps. For 2 classes it is sklearn's binary model: one column, logits
    (0, x·W + b); for C > 2 the multinomial model, W `[L, C]`. `weight_N` (default 1) weights
    samples, e.g. 0 to leave a fold out.

    Newton starts from `init` (W, b) when given (the stopping rules still measure from θ = 0);
    otherwise, when N ≥ 4·`coarse` and C is a finite Python number, from the fit of every s-th
    sample (s = ⌊N/`coarse`⌋) at C·s — the same problem at 1/s of the cost per step — which
    leaves a few full-size steps (unpenalised fits gain nothing from it: measured, and a
    subsample is more often separable).
    """
    n, dim = x_NxL.shape
    width = 1 if num_classes == 2 else num_classes
    targets = _one_hot(y_N, num_classes)
    targets = targets[:, 1:] if width == 1 else targets
    weight_N = jnp.ones(n, jnp.float32) if weight_N is None else weight_N
    a = jnp.concatenate([x_NxL, jnp.ones((n, 1), x_NxL.dtype)], axis=1)  # [N, L + 1]
    penalty = jnp.concatenate([jnp.full(dim, 1.0 / C), jnp.zeros(1)])[:, None]

    def probabilities(theta):  # the C' modelled columns of softmax(a θ) (sigmoid for one)
        p = jax.nn.softmax(_logits(a, theta), axis=-1)
        return p[:, 1:] if width == 1 else p

    def objective(theta):
        log_p = jax.nn.log_softmax(_logits(a, theta), axis=-1)
        cross_entropy = -jnp.sum(_one_hot(y_N, num_classes) * log_p, axis=-1)
        return jnp.sum(weight_N * cross_entropy) + 0.5 * jnp.sum(penalty * theta * theta)

    def gradient(theta, p):
        return a.T @ ((p - targets) * weight_N[:, None]) + penalty * theta

    def newton_step(state):
        theta, grad, value, _, i = state
        p = probabilities(theta)
        wp = p * weight_N[:, None]

        def hessian_times(v):  # Σ_n w_n aₙ ⊗ (diag pₙ − pₙpₙᵀ)(aₙᵀv) + penalty ⊙ v
            z = a @ v
            return a.T @ (wp * z - wp * jnp.sum(p * z, axis=1, keepdims=True)) + penalty * v

        forcing = jnp.minimum(0.5, jnp.sqrt(jnp.max(jnp.abs(grad)) / scale))
        direction = _truncated_cg(
            hessian_times, -grad, _preconditioner(a, wp, p, penalty), forcing, cg_steps
        )
        slope = jnp.sum(grad * direction)

        def too_long(t):
            return (objective(theta + t * direction) > value + 1e-4 * t * slope) & (t > 1e-3)

        t = lax.while_loop(too_long, lambda t: 0.5 * t, 1.0)
        new_value = objective(theta + t * direction)
        t = jnp.where(new_value <= value, t, 0.0)  # no decrease (or NaN): stop
        theta = theta + t * direction
        decrease = jnp.where(t > 0, value - new_value, 0.0)
        value = jnp.where(t > 0, new_value, value)
        return theta, gradient(theta, probabilities(theta)), value, decrease, i + 1

    def unconverged(state):
        _, grad, _, decrease, i = state
        return (i < steps) & (jnp.max(jnp.abs(grad)) > tol * scale) & (decrease > 1e-6 * start)

    theta = jnp.zeros((dim + 1, width), jnp.float32)
    scale = jnp.maximum(jnp.max(jnp.abs(gradient(theta, probabilities(theta)))), 1e-30)
    start = objective(theta)
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
    value = objective(theta)
    grad = gradient(theta, probabilities(theta))
    theta, *_ = lax.while_loop(unconverged, newton_step, (theta, grad, value, start, 0))
    return theta[:-1], theta[-1]


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


def _armijo(objective, theta, value, grad, direction):
    """The largest of 1, ½, …, 2⁻⁷ meeting Armijo's condition along `direction` from θ with
    objective `value` (else 0)."""
    sizes = 0.5 ** jnp.arange(8.0)
    values = jax.vmap(lambda t: objective(theta + t * direction))(sizes)
    armijo = values <= value + 1e-4 * sizes * (grad @ direction)
    return jnp.where(jnp.any(armijo), sizes[jnp.argmax(armijo)], 0.0)


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
    (the folds of one C are fitted together), and the refit starts from the mean over folds
    of the best C's solutions.
    """
    n, dim = x_NxL.shape
    width = 1 if num_classes == 2 else num_classes
    sizes = np.full(folds, n // folds) + (np.arange(folds) < n % folds)
    fold_of = jnp.asarray(np.repeat(np.arange(folds), sizes))
    held_out_FxN = fold_of[None, :] == jnp.arange(folds)[:, None]
    cs = jnp.logspace(-4.0, 4.0, num_cs)

    def fit_folds(params_F, c):
        def fit(held_out, init):
            params = fit_logistic_regression(
                x_NxL, y_N, num_classes, C=c, weight_N=1.0 - held_out, init=init
            )
            correct = linear_predict(params, x_NxL) == y_N
            return params, jnp.sum(correct * held_out) / jnp.maximum(jnp.sum(held_out), 1)

        params_F, accuracy_F = jax.vmap(fit)(held_out_FxN, params_F)
        return params_F, (params_F, accuracy_F)

    start = (jnp.zeros((folds, dim, width)), jnp.zeros((folds, width)))
    _, (path, grid) = lax.scan(fit_folds, start, cs)  # path: [num_cs, folds, ...]
    best = jnp.argmax(jnp.mean(grid, axis=1))
    init = jax.tree.map(lambda p: jnp.mean(p[best], axis=0), path)
    return fit_logistic_regression(x_NxL, y_N, num_classes, C=cs[best], init=init)


# --- linear SVM on one feature ---


@functools.partial(jax.jit, static_argnames=("num_classes", "steps"))
def fit_linear_svc_1d(x_N, y_N, num_classes: int, *, C=0.01, steps=20):
    """sklearn `LinearSVC(C=C, class_weight="balanced")` (liblinear, squared hinge) on one
    feature, `-> (W [1, C'], b [C'])`.

    Per one-vs-rest problem c (one problem, class 1 vs 0, for 2 classes) with s_n = ±1 and
    θ = (w, b) (liblinear penalises the intercept): min ½‖θ‖² + Σ_n C_n max(0, 1 − s_n(w x_n + b))²,
    solved by generalised Newton steps with backtracking until a step moves θ by less than 10⁻⁷
    (relative), at most `steps`. Balanced class weights
    ω_c = N / (C·N_c) as sklearn; liblinear gives the positives C·ω_c and, for more than 2 classes,
    the rest C (for 2 classes each sample C·ω of its class). With one feature the active samples
    of a class are those below (or above) a threshold, so the loss, gradient and Hessian come
    from prefix sums of (1, x, x²) over the samples sorted by (class, x): after the O(N log N)
    sort each step costs O(C' log N), whatever N.
    """
    n = x_N.shape[0]
    counts = jnp.sum(_one_hot(y_N, num_classes), axis=0)
    omega = n / (num_classes * jnp.maximum(counts, 1.0))
    mu = jnp.mean(x_N)
    # sorted as int32 keys, with a binary search for ranks (XLA:CPU sorts floats and key-value
    # pairs several times slower); tied values share their first rank
    x_keys = _order_keys(x_N)
    sorted_keys = jnp.sort(x_keys)
    rank = jnp.searchsorted(sorted_keys, x_keys).astype(jnp.int32)
    d_sorted = _from_order_keys(sorted_keys) - mu  # centred: the moments lose less to rounding
    key = jnp.sort(y_N * n + rank)  # (class, rank of x), increasing
    d_by_class = d_sorted[key % n]

    def prefix(values):
        moments = jnp.stack([jnp.ones_like(values), values, values * values], axis=1)
        return jnp.concatenate([jnp.zeros((1, 3)), cumulative_sum(moments)])  # [N + 1, 3]

    every, by_class = prefix(d_sorted), prefix(d_by_class)
    class_start = jnp.searchsorted(key, jnp.arange(num_classes + 1) * n)

    if num_classes == 2:
        positive = jnp.ones(1, jnp.int32)
        cost_pos, cost_neg = C * omega[1:], C * omega[:1]
    else:
        positive = jnp.arange(num_classes)
        cost_pos, cost_neg = C * omega, jnp.full(num_classes, C)

    def problem(c, kappa_pos, kappa_neg):
        # θ' = (w, β) with β = b + μ w, so that w x + b = w d + β; ½‖θ‖² = ½ θ'ᵀ R θ'
        R = jnp.array([[1.0 + mu * mu, -mu], [-mu, 1.0]])
        class_total = by_class[class_start[c + 1]] - by_class[class_start[c]]
        rest_total = every[n] - class_total

        def active(theta):
            """Cost-weighted moments of the active positives (w d < 1 − β) and negatives
            (w d > −1 − β), `[2, 3]`."""
            w, beta = theta
            t = jnp.stack([1.0 - beta, -1.0 - beta]) / jnp.where(w == 0, 1.0, w)
            # samples below t (left) and at most t (right), for t⁺ and t⁻: [2, 2]
            below = jnp.searchsorted(d_sorted, jnp.stack([t, jnp.nextafter(t, jnp.inf)]))
            in_class = by_class[jnp.searchsorted(key, c * n + below)] - by_class[class_start[c]]
            in_rest = every[below] - in_class
            pos = jnp.where(
                w > 0,
                in_class[0, 0],
                jnp.where(w < 0, class_total - in_class[1, 0], class_total * (beta < 1.0)),
            )
            neg = jnp.where(
                w > 0,
                rest_total - in_rest[1, 1],
                jnp.where(w < 0, in_rest[0, 1], rest_total * (beta > -1.0)),
            )
            return jnp.stack([kappa_pos * pos, kappa_neg * neg])

        def terms(theta, m):
            """Objective, gradient and Hessian in θ' from the active moments m."""
            w, beta = theta
            (p0, p1, p2), (q0, q1, q2) = m
            u, v = 1.0 - beta, 1.0 + beta
            loss = (
                u * u * p0 - 2 * u * w * p1 + w * w * p2 + v * v * q0 + 2 * v * w * q1 + w * w * q2
            )
            grad = 2.0 * jnp.stack(
                [w * (p2 + q2) - u * p1 + v * q1, w * (p1 + q1) - u * p0 + v * q0]
            )
            hessian = 2.0 * jnp.array([[p2 + q2, p1 + q1], [p1 + q1, p0 + q0]])
            return 0.5 * theta @ R @ theta + loss, R @ theta + grad, R + hessian

        def objective(theta):
            return terms(theta, active(theta))[0]

        def step(state):
            theta, _, i = state
            value, grad, hessian = terms(theta, active(theta))
            direction = -_solve_2x2(hessian, grad)
            change = _armijo(objective, theta, value, grad, direction) * direction
            return theta + change, jnp.max(jnp.abs(change) / (1.0 + jnp.abs(theta))), i + 1

        def moving(state):
            _, change, i = state
            return (i < steps) & (change > 1e-7)

        theta, *_ = lax.while_loop(moving, step, (jnp.zeros(2), jnp.inf, 0))
        w, beta = theta
        return w, beta - mu * w

    w, b = jax.vmap(problem)(positive, cost_pos, cost_neg)
    return w[None, :], b


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
    """Class index of a linear model `(W [L, C'], b [C'])`: argmax_c (x W + b)_c, or 1[x W + b > 0]
    for one column."""
    W, b = params
    z = x_NxL @ W + b
    return (z[:, 0] > 0).astype(jnp.int32) if W.shape[1] == 1 else jnp.argmax(z, axis=1)


# --- trees on binned features ---


def quantile_edges(x_NxF, num_bins: int):
    """Bin edges per feature `[F, num_bins − 1]`: midpoints between the sorted samples at the
    quantile positions ⌊jN/num_bins⌋ − 1 and ⌊jN/num_bins⌋; a feature with fewer distinct values
    than bins gets an edge between every pair of neighbouring values."""
    n = x_NxF.shape[0]
    s = _from_order_keys(jnp.sort(_order_keys(x_NxF.T), axis=1))  # [F, N]
    position = jnp.clip((jnp.arange(1, num_bins) * n) // num_bins, 1, n - 1)
    return 0.5 * (s[:, position - 1] + s[:, position])


def apply_bins(x_NxF, edges_FxE):
    """Bin index of each value: #{edges < x}, `[N, F] -> int32 [N, F]` in 0..num_bins−1."""
    return jax.vmap(lambda e, x: jnp.searchsorted(e, x, side="left"), in_axes=(0, 1), out_axes=1)(
        edges_FxE, x_NxF
    ).astype(jnp.int32)


def grow_tree(
    bins_NxF,
    stats_NxS,
    gain_fn,
    depth: int,
    num_bins: int,
    noise,
    feature_subset=None,
    labels_N=None,
):
    """A depth-`depth` binary tree grown level by level on binned features.

    At each node the split (feature f, bin t; left = bins ≤ t) maximises `gain_fn(left, right)`
    over per-node sums of `stats` (`[..., S] -> [...]`, −inf where invalid); exact ties between
    features are broken at random (as sklearn's random feature order), and a node whose best
    gain is not positive stays unsplit (all its samples go left). With `feature_subset = k`, each
    node considers k random features (random forests). Returns (features, thresholds), a tuple
    of `[2^d]` arrays per level d, the importance Σ gain per feature `[F]`, and each sample's
    leaf `[N]` in 0..2^depth − 1.
    `noise` `[2, 2^depth − 1, F]` (uniform in [0, 1); rows 2^d − 1 .. 2^(d+1) − 2 for the nodes of
    level d) draws tie-breaks and feature subsets.
    With `labels_N` (int, 0..S−1), row n of `stats` must be zero outside column labels_N[n]
    (weighted one-hot class counts): the histograms then scatter one value per sample.
    Cumulative sums over bins are associative scans (XLA:CPU's cumsum is quadratic, a triangular
    matmul costs B multiply-adds per entry).
    """
    n, num_features = bins_NxF.shape
    num_stats = stats_NxS.shape[1]
    k = num_features if feature_subset is None else feature_subset
    if labels_N is not None:
        weight_N = jnp.take_along_axis(stats_NxS, labels_N[:, None], axis=1)[:, 0]
    node = jnp.zeros(n, jnp.int32)
    importance = jnp.zeros(num_features, jnp.float32)
    features, thresholds = [], []
    for depth_index in range(depth):  # unrolled: level d has 2^d nodes
        width = 2**depth_index
        tie, subset = noise[:, width - 1 : 2 * width - 1]
        if feature_subset is None:
            candidates = jnp.broadcast_to(jnp.arange(num_features), (width, num_features))
        else:
            candidates = jnp.argsort(subset, axis=1)[:, :k]
            tie = jnp.take_along_axis(tie, candidates, axis=1)
        sample_bins = jnp.take_along_axis(bins_NxF, candidates[node], axis=1)  # [N, k]
        index = (node[:, None] * k + jnp.arange(k)) * num_bins + sample_bins
        if labels_N is None:
            hist = jax.ops.segment_sum(
                jnp.broadcast_to(stats_NxS[:, None, :], (n, k, num_stats)).reshape(-1, num_stats),
                index.reshape(-1),
                num_segments=width * k * num_bins,
            )
        else:
            hist = jax.ops.segment_sum(
                jnp.broadcast_to(weight_N[:, None], (n, k)).reshape(-1),
                (index * num_stats + labels_N[:, None]).reshape(-1),
                num_segments=width * k * num_bins * num_stats,
            )
        hist = hist.reshape(width, k, num_bins, num_stats)
        left = lax.associative_scan(jnp.add, hist, axis=2)
        gain = gain_fn(left, left[:, :, -1:, :] - left)  # [W, k, B]
        best_bin = jnp.argmax(gain, axis=2)
        best_gain = jnp.max(gain, axis=2)  # [W, k]
        top = jnp.max(best_gain, axis=1, keepdims=True)
        choice = jnp.argmax(jnp.where(best_gain == top, tie, -1.0), axis=1)
        gain_m = jnp.take_along_axis(best_gain, choice[:, None], axis=1)[:, 0]
        split = gain_m > 0
        feature = jnp.take_along_axis(candidates, choice[:, None], axis=1)[:, 0]
        threshold = jnp.where(
            split, jnp.take_along_axis(best_bin, choice[:, None], axis=1)[:, 0], num_bins - 1
        )
        importance = importance + jax.ops.segment_sum(
            jnp.where(split, gain_m, 0.0), feature, num_segments=num_features
        )
        chosen = jnp.take_along_axis(sample_bins, choice[node][:, None], axis=1)[:, 0]
        node = 2 * node + (chosen > threshold[node])
        features.append(feature)
        thresholds.append(threshold)
    return (tuple(features), tuple(thresholds)), importance, node


def tree_leaves(tree, bins_NxF):
    """Leaf index `[N]` of each binned sample in a `grow_tree` tree."""
    node = jnp.zeros(bins_NxF.shape[0], jnp.int32)
    for feature, threshold in zip(*tree, strict=True):
        value = jnp.take_along_axis(bins_NxF, feature[node][:, None], 1)[:, 0]
        node = 2 * node + (value > threshold[node])
    return node


def _squared_error_gain(left, right):
    """Between-node sum of squares S_l²/n_l + S_r²/n_r − S²/n from centred sums (stats = (g, 1))."""
    s_l, n_l, s_r, n_r = left[..., 0], left[..., 1], right[..., 0], right[..., 1]
    n = n_l + n_r
    gain = jnp.square(s_l * n_r - s_r * n_l) / jnp.maximum(n_l * n_r * n, 1.0)
    return jnp.where((n_l >= 1) & (n_r >= 1), gain, -jnp.inf)


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
        tree, importance, leaf = grow_tree(
            bins, jnp.stack([centred, jnp.ones(n)], 1), _squared_error_gain, depth, num_bins, noise
        )
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
    noise = jax.random.uniform(key, (num_stages, trees_per_stage, 2, 2**depth - 1, x_NxF.shape[1]))
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

    Each tree sees a bootstrap sample (multiplicity weights) and, at every node, k = ⌊√F⌋ random
    features (`max_features`); splits maximise the decrease of weighted entropy. A tree predicts
    its leaf's weighted class frequencies; the forest averages them. Importances are sklearn's:
    per tree the entropy decreases per feature normalised to sum 1, averaged over trees and
    normalised again.
    """
    n, num_features = x_NxF.shape
    k = max(1, int(num_features**0.5)) if max_features is None else max_features
    edges = quantile_edges(x_NxF, num_bins)
    bins = apply_bins(x_NxF, edges)
    targets = _one_hot(y_N, num_classes)

    boot_key, noise_key = jax.random.split(key)
    draws = jax.random.randint(boot_key, (num_trees, n), 0, n)
    noise = jax.random.uniform(noise_key, (num_trees, 2, 2**depth - 1, num_features))

    def one_tree(draws_and_noise):
        draws, noise = draws_and_noise
        weight = jax.ops.segment_sum(jnp.ones(n), draws, num_segments=n)
        counts = targets * weight[:, None]
        tree, importance, leaf = grow_tree(
            bins, counts, _entropy_gain, depth, num_bins, noise, feature_subset=k, labels_N=y_N
        )
        leaf_counts = jax.ops.segment_sum(counts, leaf, num_segments=2**depth)
        proba = leaf_counts / jnp.maximum(jnp.sum(leaf_counts, axis=1, keepdims=True), 1e-12)
        total = jnp.sum(importance)
        return tree, proba, jnp.where(total > 0, importance / jnp.where(total > 0, total, 1), 0)

    trees, probas, importances = lax.map(one_tree, (draws, noise))
    mean = jnp.mean(importances, axis=0)
    total = jnp.sum(mean)
    feature_importances = jnp.where(total > 0, mean / jnp.where(total > 0, total, 1.0), 0.0)
    return (edges, trees, probas), feature_importances


@jax.jit
def random_forest_predict(model, x_NxF):
    """Class index `[N]` of a `fit_random_forest` model: argmax of the mean tree probabilities."""
    edges, trees, probas = model
    bins = apply_bins(x_NxF, edges)

    def tree_proba(total, tree_and_proba):
        tree, proba = tree_and_proba
        return total + proba[tree_leaves(tree, bins)], None

    total, _ = lax.scan(tree_proba, jnp.zeros((x_NxF.shape[0], probas.shape[-1])), (trees, probas))
    return jnp.argmax(total, axis=1)


# --- inputs shared by the classifier-based metrics ---


def train_test_inputs(metric, codes, factors, test_codes, test_factors, *, min_codes=1):
    """Checks codes `[N, L]`, factors `[N, K]`, test_codes `[M, L]`, test_factors `[M, K]` with
    one-line `UserError`s naming `metric`, and NaN codes where the values are known (outside
    jit); returns them as (float32, int32, float32, int32) arrays."""
    arrays = {
        "codes": jnp.asarray(codes),
        "factors": jnp.asarray(factors),
        "test_codes": jnp.asarray(test_codes),
        "test_factors": jnp.asarray(test_factors),
    }
    for name, x in arrays.items():
        if x.ndim != 2:
            raise UserError(f"{name} must be 2-D [N, columns], got shape {tuple(x.shape)}")
    codes, factors, test_codes, test_factors = arrays.values()
    for a, b, a_name, b_name in [
        (codes, factors, "codes", "factors"),
        (test_codes, test_factors, "test_codes", "test_factors"),
    ]:
        if a.shape[0] != b.shape[0]:
            raise UserError(
                f"{a_name} and {b_name} need the same number of samples N, "
                f"got {a.shape[0]} and {b.shape[0]}"
            )
    if test_codes.shape[1] != codes.shape[1] or test_factors.shape[1] != factors.shape[1]:
        raise UserError(
            f"test_codes / test_factors need the columns of codes / factors, got "
            f"{test_codes.shape[1]} / {test_factors.shape[1]} for {codes.shape[1]} / "
            f"{factors.shape[1]}"
        )
    if codes.shape[1] < min_codes or factors.shape[1] < 1 or min(len(codes), len(test_codes)) < 2:
        raise UserError(
            f"{metric} needs at least {min_codes} code dimension(s), one factor and 2 samples per "
            f"split, got codes {codes.shape} and test_codes {test_codes.shape}, factors "
            f"{factors.shape}"
        )
    require_finite(metric, codes=codes, test_codes=test_codes)
    if jnp.issubdtype(factors.dtype, jnp.floating) or jnp.issubdtype(
        test_factors.dtype, jnp.floating
    ):
        raise UserError(f"{metric} needs integer (discrete) factors, got {factors.dtype}")
    return (
        codes.astype(jnp.float32),
        factors.astype(jnp.int32),
        test_codes.astype(jnp.float32),
        test_factors.astype(jnp.int32),
    )


def require_finite(metric, **arrays):
    """A one-line `UserError` if a concrete array (traced ones are not checked) holds NaN or Inf."""
    for name, x in arrays.items():
        if not isinstance(x, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(x))):
            raise UserError(f"{metric}: {name} contain NaN or Inf; all codes must be finite")


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
