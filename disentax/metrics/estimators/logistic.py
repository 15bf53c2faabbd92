"""L2 logistic regression by Newton–CG, as sklearn's `LogisticRegression`, with its
cross-validated `LogisticRegressionCV` counterpart."""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from disentax.metrics.estimators.encoding import linear_predict, one_hot_classes


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
    one_hot = one_hot_classes(y_N, num_classes)
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
