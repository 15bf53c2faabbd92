"""InfoMEC against a numpy + sklearn transcription of the QLAE code's standalone infomec.py."""

import functools
import warnings

import jax
import numpy as np
import pytest
from metric_cases import structured_case
from sklearn import feature_selection, linear_model, metrics, preprocessing

from disentax.errors import UserError
from disentax.metrics import infomec, knn_mutual_info
from disentax.metrics.infomec import _pair_order

N = 1000

# --- reference: latent_quantization disentangle/metrics/infomec.py, transcribed ---


def ref_nmi(sources, latents, discrete_latents, n_neighbors=10):
    sources = np.stack([preprocessing.LabelEncoder().fit_transform(s) for s in sources.T], 1)
    if discrete_latents:
        latents = np.stack([preprocessing.LabelEncoder().fit_transform(z) for z in latents.T], 1)
    else:
        latents = preprocessing.StandardScaler().fit_transform(latents.astype(np.float64))
    nmi = np.empty((sources.shape[1], latents.shape[1]))
    for i, s in enumerate(sources.T):
        for j, z in enumerate(latents.T):
            if discrete_latents:
                nmi[i, j] = metrics.mutual_info_score(s, z)
            else:
                nmi[i, j] = feature_selection.mutual_info_classif(
                    z[:, None], s, discrete_features=False, n_neighbors=n_neighbors, random_state=0
                )[0]
        nmi[i] /= metrics.mutual_info_score(s, s)
    return nmi


def ref_infomc(sources, latents, discrete_latents, n_neighbors=10):
    nmi = ref_nmi(sources, latents, discrete_latents, n_neighbors)
    ranges = np.max(latents, axis=0) - np.min(latents, axis=0)
    active = ranges > 0 if discrete_latents else ranges > np.max(ranges) / 20
    k, d = sources.shape[1], np.sum(active)
    pruned = nmi[:, active]
    with np.errstate(invalid="ignore"):
        ratio_m, ratio_c = (
            np.max(pruned, 0) / np.sum(pruned, 0),
            np.max(pruned, 1) / np.sum(pruned, 1),
        )
    # The reference's 0/0 for a latent (factor) with zero NMI to everything is NaN; disentax
    # defines it as the uniform ratio, i.e. a score of 0.
    ratio_m, ratio_c = (
        np.where(np.isnan(ratio_m), 1 / k, ratio_m),
        np.where(np.isnan(ratio_c), 1 / d, ratio_c),
    )
    infom = (np.mean(ratio_m) - 1 / k) / (1 - 1 / k)
    infoc = (np.mean(ratio_c) - 1 / d) / (1 - 1 / d)
    return infom, infoc, nmi


def ref_infoe(sources, latents, discrete_latents):
    if discrete_latents:
        x = preprocessing.OneHotEncoder().fit_transform(latents)
    else:
        x = preprocessing.StandardScaler().fit_transform(latents.astype(np.float64))
    terms = []
    for s in sources.T:
        y = preprocessing.LabelEncoder().fit_transform(s)

        def loss(features, y=y):
            model = linear_model.LogisticRegression(C=np.inf, class_weight="balanced")
            return metrics.log_loss(y, model.fit(features, y).predict_proba(features))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cond, marg = loss(x), loss(np.zeros(latents.shape))
        terms.append((marg - cond) / marg)
    return np.mean(terms)


# Every call below shares one of a few static configurations (shapes, class counts, one-hot
# width), so that the suite compiles InfoMEC only a handful of times.
LABELS = ((0, 1, 2, 3), (3, 7, 100, 5), (-5, 2, 9, 40))
CLASSES = (4, 4, 4)  # equal class counts: InfoE compiles one (vmapped) regression
WIDTH = 32  # one-hot width for discrete latents (at most 25 distinct values below)


def case(seed, discrete):
    codes, factors = structured_case(seed, n=N, label_sets=LABELS)
    codes = codes[:, :5]
    return (np.round(2.0 * codes) if discrete else codes).astype(np.float32), factors


def score(codes, factors, discrete=False, **options):
    return infomec(
        codes,
        factors,
        discrete_latents=discrete,
        num_classes=CLASSES,
        num_latent_values=WIDTH if discrete else None,
        **options,
    )


def ranks(factors):
    """Factor values as 0..C−1 floats, in the code layout [N, 3]."""
    return np.stack([np.unique(f, return_inverse=True)[1] for f in factors.T], axis=1).astype(
        np.float32
    )


# --- parity with the reference ---


@functools.cache
def discrete_scores():
    """The JAX scores of the discrete case (its InfoE fits are the slowest part of this file)."""
    return score(*case(0, discrete=True), discrete=True)


def test_discrete_matches_reference():
    codes, factors = case(0, discrete=True)
    scores = discrete_scores()
    infom, infoc, nmi = ref_infomc(factors, codes, True)
    np.testing.assert_allclose(scores["nmi"], nmi, rtol=0, atol=1e-6)
    np.testing.assert_allclose(scores["infom"], infom, rtol=0, atol=1e-6)
    np.testing.assert_allclose(scores["infoc"], infoc, rtol=0, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_continuous_matches_reference(seed):
    codes, factors = case(seed, discrete=False)
    scores = score(codes, factors)
    infom, infoc, nmi = ref_infomc(factors, codes, False)
    # float32 distances against sklearn's float64 k-NN (1e-10 jitter): a neighbour count at a
    # radius boundary can differ, moving an MI by ~1/(N·m); InfoM and InfoC divide by sums of
    # small NMIs (noise latents), which amplifies that
    np.testing.assert_allclose(scores["nmi"], nmi, rtol=0, atol=1e-4)
    np.testing.assert_allclose(scores["infom"], infom, rtol=0, atol=1e-3)
    np.testing.assert_allclose(scores["infoc"], infoc, rtol=0, atol=1e-3)


def test_knn_mutual_info_matches_sklearn_with_rare_labels():
    codes, factors = case(2, discrete=False)
    factors = factors.copy()
    factors[:2, 0], factors[5, 1] = 1000, -7  # a label seen twice and a label seen once
    expected = [
        [
            feature_selection.mutual_info_classif(
                z[:, None].astype(np.float64), y, n_neighbors=3, random_state=0
            )[0]
            for y in factors.T
        ]
        for z in codes.T
    ]
    got = knn_mutual_info(codes, factors, n_neighbors=3)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)


@pytest.mark.parametrize("n", [1000, 46_341])  # a packed int32 key; N² beyond int32: two keys
def test_pair_order_groups_by_label_keeping_code_order(n):
    y = np.random.default_rng(n).choice([0, 7, n // 2, n - 1], n).astype(np.int32)
    index, labels = _pair_order(jax.numpy.asarray(y), n)
    expected = np.lexsort((np.arange(n), y))
    np.testing.assert_array_equal(index, expected)
    np.testing.assert_array_equal(labels, y[expected])


@pytest.mark.parametrize("discrete", [False, True])
def test_infoe_jax_and_reference_agree_with_transcription(discrete):
    codes, factors = case(0, discrete)
    expected = ref_infoe(factors, codes, discrete)
    reference = infomec(codes, factors, discrete_latents=discrete, mode="reference")["infoe"]
    np.testing.assert_allclose(reference, expected, rtol=0, atol=1e-6)
    # Not separable: both solvers approach the optimum of the same convex problem (measured
    # |Δ| 7e-6 continuous, 3e-4 discrete, where sklearn's 100 lbfgs iterations stop short).
    jax_scores = discrete_scores() if discrete else score(codes, factors)
    np.testing.assert_allclose(jax_scores["infoe"], expected, atol=1e-3 if discrete else 1e-4)


def test_infoe_unpenalised_on_separable_collinear_and_constant_latents():
    codes, factors = case(0, discrete=False)
    r = ranks(factors)
    separable = np.concatenate([r, r[:, :1], np.zeros((len(r), 1))], axis=1)  # [N, 5]
    expected = ref_infoe(factors, separable, False)
    np.testing.assert_allclose(score(separable, factors)["infoe"], expected, atol=1e-3)


def test_infoe_on_one_hot_codes_that_separate_groups_of_classes():
    """Quantized codes (QLAE's): one-hot groups are collinear with the intercept, a latent splits
    a factor's classes into two groups exactly (the unpenalised optimum is at infinity along
    it), and one-hot columns of unused values are zero. Jax's preconditioned `cg` returned NaN
    here (a float32 Cholesky of the singular blocks and a division by zero curvature)."""
    rng = np.random.default_rng(0)
    n = 2000
    factors = np.stack([rng.integers(0, 10, n), rng.integers(0, 4, n)], 1).astype(np.int32)
    noisy = np.where(rng.random(n) < 0.9, factors[:, 0] // 2, rng.integers(0, 5, n))
    codes = np.stack([noisy, factors[:, 1] % 2, rng.integers(0, 6, n)], 1).astype(np.float32)
    expected = ref_infoe(factors, codes, True)
    got = infomec(codes, factors, discrete_latents=True, num_latent_values=10)["infoe"]
    np.testing.assert_allclose(got, expected, atol=1e-3)


# --- behaviour ---


def test_identity_rotation_duplication_noise():
    _, factors = case(3, discrete=False)
    rng = np.random.default_rng(1)
    truth = ranks(factors) + 0.05 * rng.normal(size=(N, 3)).astype(np.float32)
    constant = np.zeros((N, 2), np.float32)  # inactive latents
    rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0].astype(np.float32)

    identity = score(np.concatenate([truth, constant], 1), factors)
    assert identity["num_active_latents"] == 3
    assert identity["infom"] > 0.97 and identity["infoc"] > 0.97 and identity["infoe"] > 0.9
    rotated = score(np.concatenate([truth @ rotation, constant], 1), factors)
    assert rotated["infom"] < identity["infom"] - 0.3
    assert rotated["infoc"] < identity["infoc"] - 0.3
    duplicated = score(np.concatenate([truth, truth[:, :2] + 0.01], 1), factors)
    # factors 0 and 1 split their information over two latents: InfoC per factor
    # (½ − ⅕)/(1 − ⅕) = 3/8, factor 2 keeps 1
    assert duplicated["infom"] > 0.95
    np.testing.assert_allclose(duplicated["infoc"], (2 * 3 / 8 + 1) / 3, atol=0.03)
    noise = score(rng.normal(size=(N, 5)).astype(np.float32), factors)
    assert np.max(noise["nmi"]) < 0.05 and noise["infoe"] < 0.02  # estimator bias at N = 1000


def test_discrete_identity_is_near_one():
    _, factors = case(4, discrete=True)
    codes = np.concatenate([ranks(factors), np.zeros((N, 2), np.float32)], 1)
    scores = score(codes, factors, discrete=True)
    np.testing.assert_allclose(np.diag(scores["nmi"][:, :3]), 1.0, atol=1e-6)
    assert scores["infom"] > 0.98 and scores["infoc"] > 0.98 and scores["infoe"] > 0.99


def test_training_time_knobs():
    codes, factors = case(0, discrete=False)
    codes[:, 4] = 0.1 * codes[:, 4]  # range below max / 8 but above max / 20
    standalone = score(codes, factors)
    training = score(codes, factors, n_neighbors=3, active_fraction=1 / 8)
    assert standalone["num_active_latents"] == 5 and training["num_active_latents"] == 4
    _, _, nmi = ref_infomc(factors, codes, False, n_neighbors=3)
    np.testing.assert_allclose(training["nmi"], nmi, rtol=0, atol=5e-4)  # k = 3: noisier


def test_degenerate_inputs_are_defined():
    _, factors = case(0, discrete=False)
    constant = np.zeros((N, 5), np.float32)
    for discrete in (False, True):
        scores = score(constant, factors, discrete)
        assert scores["infom"] == 0 and scores["infoc"] == 0 and scores["num_active_latents"] == 0
        np.testing.assert_allclose(scores["infoe"], 0.0, atol=1e-6)


def test_jit_and_vmap_over_population():
    codes = np.stack([case(s, discrete=False)[0] for s in range(3)])
    factors = np.stack([case(s, discrete=False)[1] for s in range(3)])
    looped = [score(c, f) for c, f in zip(codes, factors, strict=True)]
    batched = jax.jit(jax.vmap(score))(codes, factors)
    for key in ("infom", "infoc", "nmi", "infoe"):
        np.testing.assert_allclose(batched[key], np.stack([s[key] for s in looped]), atol=1e-5)


def test_user_errors():
    codes, factors = case(0, discrete=False)
    with pytest.raises(UserError, match="same number of samples"):
        infomec(codes[:-1], factors)
    with pytest.raises(UserError, match="mode"):
        infomec(codes, factors, mode="sklearn")
    with pytest.raises(UserError, match="num_classes"):
        jax.vmap(infomec)(codes[None], factors[None])
