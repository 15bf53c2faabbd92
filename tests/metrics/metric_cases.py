"""Shared by the metric tests: numpy/sklearn transcriptions of disentanglement_lib's helpers
and the synthetic cases the tests score."""

import numpy as np
from sklearn.metrics import mutual_info_score


def ref_discretize(codes, num_bins=20):
    x = np.asarray(codes, np.float64)
    out = np.zeros(x.shape, np.int64)
    for i in range(x.shape[1]):
        out[:, i] = np.digitize(x[:, i], np.histogram(x[:, i], num_bins)[1][:-1])
    return out


def ref_mutual_info(a, b):
    return np.array(
        [
            [mutual_info_score(a[:, i], b[:, j]) for j in range(b.shape[1])]
            for i in range(a.shape[1])
        ]
    )


def ref_entropy(y):
    return np.array([mutual_info_score(y[:, k], y[:, k]) for k in range(y.shape[1])])


def structured_case(seed, n=2000, label_sets=((0, 1, 2, 3), (3, 7, 100), (-5, 2, 9, 11, 40))):
    """Factors with arbitrary label values; codes = noisy (non-)monotone maps of them + nuisance."""
    rng = np.random.default_rng(seed)
    factors = np.stack([rng.choice(np.array(s), size=n) for s in label_sets], axis=1)
    ranks = np.stack(
        [np.searchsorted(np.sort(s), factors[:, k]) for k, s in enumerate(label_sets)], axis=1
    ).astype(np.float64)
    codes = np.stack(
        [
            ranks[:, 0] + 0.3 * rng.normal(size=n),
            np.sin(2.0 * ranks[:, 1]) + 0.2 * rng.normal(size=n),
            np.exp(0.5 * ranks[:, 2]) + rng.normal(size=n),
            ranks[:, 0] + ranks[:, 2] + 0.5 * rng.normal(size=n),
            rng.normal(size=n),
            rng.standard_t(2, size=n),
        ],
        axis=1,
    )
    return codes.astype(np.float32), factors.astype(np.int32)


def identity_case(n=3000, seed=0):
    """disentanglement_lib's IdentityObservationsData: 10 factors valued 1..10, obs = factors."""
    factors = np.random.default_rng(seed).integers(1, 11, size=(n, 10)).astype(np.int32)
    return factors.astype(np.float32), factors


# --- bad input: every public metric entry point, one table ---

BAD_CASE_SHAPE = (40, 3)  # the valid codes the cases spoil (factors: [40, 2] in 0..2)


def bad_case_inputs():
    """Valid (codes [40, 3] float32, factors [40, 2] int32) for the BAD_INPUTS transforms."""
    rng = np.random.default_rng(0)
    return (
        rng.normal(size=BAD_CASE_SHAPE).astype(np.float32),
        rng.integers(0, 3, (BAD_CASE_SHAPE[0], 2)).astype(np.int32),
    )


BAD_INPUTS = {
    # case: (what replaces (codes, factors), the one-line message expected)
    "string codes": (
        lambda c, f: ("abc", f),
        "must be an array of real numbers, got the string",
    ),
    "None codes": (lambda c, f: (None, f), "must be an array of real numbers, got None"),
    "ragged codes": (lambda c, f: ([[1.0, 2.0], [3.0]], f), "must be an array of real numbers"),
    "complex codes": (lambda c, f: (c + 1j, f), "must be an array of real numbers"),
    "1-D codes": (lambda c, f: (c[:, 0], f), r"2-D|must be \[M models"),
    "N mismatch": (lambda c, f: (c[:-1], f), "same number of samples|of one shape"),
    "empty": (lambda c, f: (c[:0], f[:0]), "at least"),
    "continuous factors": (
        lambda c, f: (c, c[:, : f.shape[1]]),
        r"needs integer \(discrete\) (factors|labels), got float32 values such as",
    ),
    "string factors": (lambda c, f: (c, "abc"), "must be an array of real numbers"),
}
CODES_ONLY = ("string codes", "None codes", "ragged codes", "complex codes", "1-D codes", "empty")
WITH_FACTORS = CODES_ONLY + ("N mismatch", "string factors")


def _metric_calls():
    """name -> (call(codes, factors), the BAD_INPUTS cases that apply to it). Split metrics get
    the same arrays as their test split; `udr` a population of two copies of the codes."""
    from disentax import metrics

    discrete = WITH_FACTORS + ("continuous factors",)
    return {
        "mig": (metrics.mig, discrete),
        "modularity": (metrics.modularity, discrete),
        "irs": (metrics.irs, WITH_FACTORS),  # bins its factors: continuous ones are allowed
        "infomec": (metrics.infomec, discrete),
        "knn_mutual_info": (metrics.knn_mutual_info, discrete),
        "unsupervised": (lambda c, f: metrics.unsupervised(c), CODES_ONLY),
        "sap": (lambda c, f: metrics.sap(c, f, c, f), discrete),
        "sap_continuous": (
            lambda c, f: metrics.sap(c, f, c, f, continuous_factors=True),
            WITH_FACTORS,
        ),
        "dci": (lambda c, f: metrics.dci(c, f, c, f), discrete),
        "dci_random_forest": (
            lambda c, f: metrics.dci(c, f, c, f, estimator="random_forest"),
            discrete,
        ),
        "modularity_explicitness": (
            lambda c, f: metrics.modularity_explicitness(c, f, c, f),
            discrete,
        ),
        "downstream_accuracies": (
            lambda c, f: metrics.downstream_accuracies(c, f, c, f),
            discrete,
        ),
        "udr": (
            lambda c, f: metrics.udr(np.stack([c, c]) if isinstance(c, np.ndarray) else c),
            CODES_ONLY,
        ),
        "histogram_discretize": (lambda c, f: metrics.histogram_discretize(c), CODES_ONLY),
        "discrete_mutual_info": (metrics.discrete_mutual_info, WITH_FACTORS),
        "discrete_entropy": (lambda c, f: metrics.discrete_entropy(c), CODES_ONLY),
        "modularity_from_mutual_info": (
            lambda c, f: metrics.modularity_from_mutual_info(c),
            CODES_ONLY,
        ),
        "psnr": (
            lambda c, f: metrics.psnr(c, np.zeros(BAD_CASE_SHAPE, np.float32)),
            CODES_ONLY[:5] + ("N mismatch",),
        ),
    }


def bad_input_cases():
    """(metric name, call, case name, transform, expected message) for every metric and every
    BAD_INPUTS case that applies to it."""
    return [
        (name, call, case, *BAD_INPUTS[case])
        for name, (call, cases) in _metric_calls().items()
        for case in cases
    ]
