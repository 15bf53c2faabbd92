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
