"""InfoMEC (Hsu et al. 2023): InfoM, InfoE, InfoC from source-normalised mutual information."""

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.scipy.special import digamma

from disentax.errors import UserError
from disentax.metrics import information, inputs
from disentax.metrics.estimators import encoding, logistic
from disentax.metrics.numerics import first_true, tree_sum
from disentax.metrics.ordering import order_keys


def knn_mutual_info(codes, labels, *, n_neighbors: int = 3):
    """Ross (2014) k-NN estimate of I(z_j; y_i) in nats: `codes [N, L], labels [N, K] -> [L, K]`.

    Per pair, over the N' samples whose label occurs more than once: k_n = min(n_neighbors,
    c_n − 1) with c_n the count of sample n's label, r_n the distance to its k_n-th nearest
    neighbour (in z) among the samples with the same label, m_n = #{n' : |z_n' − z_n| ≤ r_n⁻}
    (itself included; r⁻ the float below r), and
    I = max(0, ψ(N') + ⟨ψ(k)⟩ − ⟨ψ(c)⟩ − ⟨ψ(m)⟩), 0 when N' = 0. This is
    `sklearn.feature_selection.mutual_info_classif(z, y, discrete_features=False)` (which
    rescales z by its std, a no-op for this estimator, and adds 1e-10-scale noise that breaks ties
    at random: tied codes are counted deterministically here). Labels are compared for equality
    only, and must be discrete (integers; see `inputs.discrete_factors`). Jittable
    (`n_neighbors` static) and vmappable.
    """
    codes, labels = inputs.sample_inputs(
        "knn_mutual_info",
        codes,
        labels,
        factors_name="labels",
        hint="bin continuous labels first (histogram_discretize)",
    )
    inputs.positive_int("n_neighbors", n_neighbors)
    return _knn_mi_matrix(codes, labels, n_neighbors)


@functools.partial(jax.jit, static_argnums=2)
def _knn_mi_matrix(codes, labels, n_neighbors):
    """`knn_mutual_info` of checked inputs: `[N, L], [N, K] -> [L, K]`. Each latent is sorted
    once and shared by all factors; each (latent, factor) pair then sorts one int32 key."""
    n = codes.shape[0]
    position = jnp.arange(n, dtype=jnp.int32)
    keys = order_keys(codes.T) if codes.dtype == jnp.float32 else codes.T  # float64 under x64
    _, order = lax.sort((keys, jnp.broadcast_to(position, keys.shape)), num_keys=1)
    y, _ = information.as_labels(labels, None)  # each label's first position in its sorted column
    # [N, K]: the samples whose label occurs more than once
    kept = information.label_counts(y, n) > 1

    def per_latent(z, order):
        over_factors = jax.vmap(_knn_mi, in_axes=(None, 1, 1, None))
        return over_factors(z[order], y[order], kept[order], n_neighbors)

    return jax.vmap(per_latent, in_axes=(1, 0))(codes, order)


def _pair_order(y, n):
    """The positions 0..N−1 of an ascending code, regrouped by label `y [N]` in [0, N) with
    ascending positions inside a group, and the label of each: `-> ([N], [N])` int32. One sort of
    the packed key y·N + position where N² fits int32, else a sort by two keys."""
    position = jnp.arange(n, dtype=jnp.int32)
    if n * n <= np.iinfo(np.int32).max:
        packed = jnp.sort(y * n + position)
        return packed % n, packed // n
    y_sorted, position = lax.sort((y, position), num_keys=2)
    return position, y_sorted


def _knn_mi(z, y, kept, n_neighbors):
    """k-NN MI of one code `z [N]` in ascending order and the labels `y [N]` (in [0, N)) and
    `kept [N]` of its samples (see `knn_mutual_info`)."""
    n = z.shape[0]
    index, y_grouped = _pair_order(y, n)
    z_grouped = z[index]  # grouped by label, ascending z
    position = jnp.arange(n)
    boundary = y_grouped[1:] != y_grouped[:-1]
    first = lax.cummax(jnp.where(jnp.concatenate([jnp.ones(1, bool), boundary]), position, 0))
    last = lax.cummin(
        jnp.where(jnp.concatenate([boundary, jnp.ones(1, bool)]), position, n - 1), reverse=True
    )
    count = last - first + 1
    k = jnp.minimum(n_neighbors, count - 1)

    # The k nearest same-label neighbours fill a window of k + 1 consecutive samples of the group
    # around n: r is the smallest, over the windows [p − m, p − m + k] (m = 0..k) inside the
    # group, of the larger distance to the window's two ends. No sort.
    radius = jnp.full(n, jnp.inf, z.dtype)
    for m in range(n_neighbors + 1):
        start, end = position - m, position - m + k
        inside = (m <= k) & (start >= first) & (end <= last)
        gap = jnp.maximum(
            z_grouped - z_grouped[jnp.maximum(start, 0)],
            z_grouped[jnp.clip(end, 0, n - 1)] - z_grouped,
        )
        radius = jnp.minimum(radius, jnp.where(inside, gap, jnp.inf))
    radius = jnp.where(k > 0, jnp.nextafter(radius, jnp.zeros_like(radius)), 0.0)

    # m: the kept samples in the window [below, above) of the ascending z that |z' − z| ≤ r⁻ spans
    kept_before = jnp.concatenate([jnp.zeros(1, jnp.int32), jnp.cumsum(kept, dtype=jnp.int32)])
    bounds = first_true(  # above: the first z' − z > r⁻; below: the first z − z' ≤ r⁻
        lambda j: jnp.concatenate([z[j[:n]] - z_grouped > radius, z_grouped - z[j[n:]] <= radius]),
        2 * n,
        n,
    )
    above, below = bounds[:n], bounds[n:]
    within = kept_before[above] - kept_before[below]

    grouped_kept = count > 1
    num_kept = jnp.sum(grouped_kept)
    weight = grouped_kept.astype(z.dtype)
    psi = digamma(jnp.arange(1, n + 1, dtype=z.dtype))  # ψ(1..N): every count is in 1..N

    def mean_psi(m):
        return tree_sum(weight * psi[jnp.clip(m, 1, n) - 1]) / jnp.maximum(num_kept, 1)

    mi = psi[jnp.maximum(num_kept, 1) - 1] + mean_psi(k) - mean_psi(count) - mean_psi(within)
    return jnp.where(num_kept > 0, jnp.maximum(mi, 0.0), 0.0)


def infomec(
    codes,
    factors,
    *,
    discrete_latents: bool = False,
    n_neighbors: int = 10,
    active_fraction: float | None = None,
    mode: str = "jax",
    num_classes: tuple[int, ...] | None = None,
    num_latent_values: int | None = None,
    newton_steps: int = 100,
    discretize_factors: int | None = None,
):
    """InfoM, InfoE, InfoC and the NMI matrix: `codes [N, L], factors [N, K] -> dict`.

    NMI_kj = I(v_k; z_j) / H(v_k) `[K, L]` ("sources" normalisation; 0 for a constant factor):
    plug-in MI (`discrete_mutual_info`) when `discrete_latents`, else the k-NN estimate
    `knn_mutual_info` of the standardised codes. Active latents A: range(z_j) > 0 for discrete
    latents and range(z_j) > max_j range(z_j) / 20 for continuous ones. Then, with D = |A|,
    InfoM = (1/D) Σ_{j∈A} (max_k NMI_kj / Σ_k NMI_kj − 1/K) / (1 − 1/K),
    InfoC = (1/K) Σ_k (max_{j∈A} NMI_kj / Σ_{j∈A} NMI_kj − 1/D) / (1 − 1/D), and
    InfoE = (1/K) Σ_k (H_marg,k − H_cond,k) / H_marg,k, where H_cond,k is the mean log loss (nats,
    on the training data itself, probabilities clipped at float64 eps) of an unpenalised
    multinomial logistic regression with balanced class weights predicting v_k from all latents
    (one-hot encoded when discrete, standardised when continuous; all L latents, not only A), and
    H_marg,k the same for a model without features, whose balanced optimum is uniform:
    H_marg,k = log C_k with C_k classes. Returns {"infom", "infoe", "infoc", "nmi" [K, L],
    "num_active_latents"}.

    Canonical definition: the standalone `disentangle/metrics/infomec.py` of the QLAE code
    (n_neighbors = 10, thresholds above). The training-time version of that code
    (`metrics/mutual_information.py`) differs in two places, exposed as knobs:
    `n_neighbors=3` (sklearn's default) and `active_fraction=1/8`, which makes the active set
    range(z_j) > max range / 8 for discrete and continuous latents alike (None: the standalone
    rule). Where the reference divides 0 by 0 this defines: a latent (factor) with zero NMI to
    everything scores the uniform ratio, i.e. 0; a single factor (single active latent) gives
    the per-latent (per-factor) score 1 if its NMI is positive, else 0; no active latent gives
    InfoM = InfoC = 0; a constant factor has InfoE term 0.

    `mode="jax"` (default) fits the unpenalised regression (C = ∞) by at most `newton_steps`
    Newton–CG steps (`logistic.fit_logistic_regression`; conjugate gradients stay in the
    range of a singular Hessian, so constant, collinear or one-hot features need no ridge),
    jittable and vmappable over a leading population axis; it needs
    the static class counts: `num_classes` (distinct values per factor) and, for discrete
    latents, `num_latent_values` (the one-hot width per latent, at least the largest number of
    distinct values of a latent), read from the data when the inputs are concrete.
    `mode="reference"` fits sklearn's `LogisticRegression(C=inf,
    class_weight="balanced", solver="lbfgs", max_iter=100, tol=1e-4)` (the reference's
    penalty=None, multi_class="multinomial" in sklearn >= 1.8 spelling) for H_cond and H_marg,
    NumPy, not jittable. Without separable data both solve the same convex problem; on separable
    data the optimum is at infinity and the two stop at different points near InfoE = 1.

    Factors are discrete, or binned by `discretize_factors=B`, as in `mig`.
    """
    codes, factors = inputs.sample_inputs(
        "infomec", codes, factors, discretize_factors=discretize_factors
    )
    if not isinstance(discrete_latents, bool):
        raise UserError(f"discrete_latents must be a Python bool, got {discrete_latents!r}")
    inputs.positive_int("n_neighbors", n_neighbors)
    if active_fraction is not None and not (
        isinstance(active_fraction, int | float) and 0.0 <= active_fraction < 1.0
    ):
        raise UserError(
            f"active_fraction must be None or a Python float in [0, 1), got {active_fraction!r}"
        )
    if mode not in ("jax", "reference"):
        raise UserError(f"mode must be 'jax' or 'reference', got {mode!r}")
    if not isinstance(newton_steps, int) or newton_steps < 1:
        raise UserError(f"newton_steps must be a positive Python int, got {newton_steps!r}")
    num_classes = inputs.class_counts("infomec", factors, num_classes)
    if discrete_latents:
        num_latent_values = max(
            inputs.class_counts("infomec", codes, num_latent_values, "num_latent_values")
        )
    scores = _infomc(codes, factors, discrete_latents, n_neighbors, active_fraction)
    if mode == "reference":
        infoe = _infoe_reference(np.asarray(codes), np.asarray(factors), discrete_latents)
    else:
        infoe = _infoe(
            codes, factors, discrete_latents, num_classes, num_latent_values, newton_steps
        )
    return {**scores, "infoe": infoe}


def _normalised_ratio(nmi, mask, size):
    """Per row s = (max/Σ over masked columns − 1/size) / (1 − 1/size); 0 for an all-zero row, 1
    for a positive row when size = 1: `[R, C] -> [R]`."""
    masked = jnp.where(mask, nmi, 0.0)
    total = jnp.sum(masked, axis=1)
    informative = total > 0
    ratio = jnp.max(masked, axis=1) / jnp.where(informative, total, 1.0)
    size = jnp.asarray(size, nmi.dtype)
    uniform = 1.0 / jnp.maximum(size, 1.0)
    score = jnp.where(size > 1, (ratio - uniform) / jnp.where(size > 1, 1.0 - uniform, 1.0), 1.0)
    return jnp.where(informative, score, 0.0)


def _standardise(codes):
    """(z − mean) / std per column (ddof = 0; a constant column becomes 0), as StandardScaler."""
    mean = tree_sum(codes.T) / codes.shape[0]
    std = jnp.sqrt(tree_sum(jnp.square(codes - mean).T) / codes.shape[0])
    return (codes - mean) / jnp.where(std > 0, std, 1.0)


_LOG_EPS = float(-np.log(np.finfo(np.float64).eps))


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5))
def _infoe(codes, factors, discrete_latents, num_classes, width, steps):
    """(1/K) Σ_k (log C_k − H_cond,k) / log C_k from balanced logistic regressions; one compiled
    fit per distinct class count C_k, run over its factors by `lax.map` (a vmapped fit costs
    twice the CPU time: measured), and a term 0 where C_k = 1."""
    if discrete_latents:
        one_hot = jax.vmap(
            lambda z: jax.nn.one_hot(encoding.encode_labels(z, z, width)[0], width),
            in_axes=1,
            out_axes=1,
        )(codes)
        features = one_hot.reshape(codes.shape[0], -1)
    else:
        features = _standardise(codes)

    def term(y_raw, classes):
        y, _ = encoding.encode_labels(y_raw, y_raw, classes)
        counts = jnp.sum(jax.nn.one_hot(y, classes), axis=0)
        weight = y.shape[0] / (classes * jnp.maximum(counts, 1.0))[y]
        params = logistic.fit_logistic_regression(
            features, y, classes, C=np.inf, weight_N=weight, steps=steps
        )
        p = logistic.logistic_regression_proba(params, features)
        nll = -jnp.log(jnp.take_along_axis(p, y[:, None], axis=1)[:, 0])
        h_cond = tree_sum(jnp.minimum(nll, _LOG_EPS)) / y.shape[0]
        h_marg = jnp.log(jnp.float32(classes))
        return (h_marg - h_cond) / h_marg

    total = jnp.zeros((), features.dtype)
    for classes in sorted(set(num_classes) - {1}):
        columns = [k for k, c in enumerate(num_classes) if c == classes]
        per_factor = lax.map(lambda y, c=classes: term(y, c), factors[:, columns].T)
        total = total + jnp.sum(per_factor)
    return total / len(num_classes)


def _infoe_reference(codes, factors, discrete_latents):
    """InfoE by the reference's sklearn calls (NumPy)."""
    from sklearn import linear_model, metrics, preprocessing

    if discrete_latents:
        features = preprocessing.OneHotEncoder().fit_transform(codes)
    else:
        features = preprocessing.StandardScaler().fit_transform(codes.astype(np.float64))
    terms = []
    for column in factors.T:
        y = preprocessing.LabelEncoder().fit_transform(column)
        if y.max() < 1:
            terms.append(0.0)
            continue

        def log_loss(x, y=y):
            model = linear_model.LogisticRegression(
                C=np.inf, class_weight="balanced", solver="lbfgs", max_iter=100, tol=1e-4
            )
            return metrics.log_loss(y, model.fit(x, y).predict_proba(x))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            h_cond, h_marg = log_loss(features), log_loss(np.zeros(codes.shape))
        terms.append((h_marg - h_cond) / h_marg)
    return np.float32(np.mean(terms))


@functools.partial(jax.jit, static_argnums=(2, 3, 4))
def _infomc(codes, factors, discrete_latents, n_neighbors, active_fraction):
    entropy = information.entropy_of_values(factors)  # [K]
    if discrete_latents:
        mi = information.mutual_info_of_values(factors, codes)  # [K, L]
    else:
        mi = _knn_mi_matrix(_standardise(codes), factors, n_neighbors).T
    constant = entropy <= 0
    nmi = jnp.where(constant[:, None], 0.0, mi / jnp.where(constant, 1.0, entropy)[:, None])

    ranges = jnp.max(codes, axis=0) - jnp.min(codes, axis=0)
    if active_fraction is not None:
        active = ranges > jnp.max(ranges) * active_fraction
    elif discrete_latents:
        active = ranges > 0
    else:
        active = ranges > jnp.max(ranges) / 20
    num_active = jnp.sum(active)
    num_factors = factors.shape[1]

    per_latent = _normalised_ratio(nmi.T, jnp.ones((1, num_factors), bool), num_factors)
    infom = tree_sum(jnp.where(active, per_latent, 0.0)) / jnp.maximum(num_active, 1)
    per_factor = _normalised_ratio(nmi, active[None, :], num_active)
    infoc = jnp.where(num_active > 0, tree_sum(per_factor) / num_factors, 0.0)
    return {
        "infom": infom,
        "infoc": infoc,
        "nmi": nmi,
        "num_active_latents": num_active.astype(jnp.int32),
    }
