"""Synthetic problems shared by the classifier-metric tests: one shape (300 train / 200 test
samples, 4 codes, 2 factors of 3 values each) so each JAX estimator compiles once."""

import numpy as np

LABELS = (np.array([0, 1, 2]), np.array([3, 7, 100]))
N_TRAIN, N_TEST = 300, 200


def _factors(rng, n):
    return np.stack([rng.choice(values, size=n) for values in LABELS], axis=1).astype(np.int32)


def _ranks(factors):
    return np.stack(
        [np.searchsorted(values, factors[:, k]) for k, values in enumerate(LABELS)], axis=1
    ).astype(np.float64)


def _codes(case, factors, rng, rotation):
    r = _ranks(factors)
    n = len(factors)
    noise = rng.normal(size=(n, 2))
    if case == "perfect":
        codes = np.concatenate([r, 0.1 * noise], axis=1)
    elif case == "permuted":
        codes = np.concatenate([0.1 * noise[:, :1], r[:, 1:], 0.1 * noise[:, 1:], r[:, :1]], axis=1)
    elif case == "mixed":
        mixed = np.stack([r[:, 0] + r[:, 1], r[:, 0] - r[:, 1]], axis=1) / np.sqrt(2.0)
        codes = np.concatenate([mixed, 0.1 * noise], axis=1) @ rotation
    elif case == "noisy":
        codes = np.concatenate([r + 0.6 * rng.normal(size=(n, 2)), noise], axis=1)
    elif case == "dead":
        codes = np.concatenate([r + 0.2 * noise, np.zeros((n, 2))], axis=1)
    elif case == "duplicated":
        codes = np.concatenate([r, r], axis=1)
    elif case == "pure_noise":
        codes = rng.normal(size=(n, 4))
    else:
        raise ValueError(case)
    return codes.astype(np.float32)


CASES = ("perfect", "permuted", "mixed", "noisy", "dead")


def classifier_case(case, seed=0):
    """(codes, factors, test_codes, test_factors) of a named case; "mixed" rotates the factor
    codes by 45° (each code needs both factors), "duplicated" repeats both factor codes,
    "pure_noise" ignores the factors."""
    rng = np.random.default_rng(seed)
    rotation = np.eye(4)[:, [0, 2, 1, 3]]
    factors, test_factors = _factors(rng, N_TRAIN), _factors(rng, N_TEST)
    return (
        _codes(case, factors, rng, rotation),
        factors,
        _codes(case, test_factors, rng, rotation),
        test_factors,
    )


class IdentityData:
    """disentanglement_lib's IdentityObservationsData in disentax's protocol: 4 factors of 5
    values; the image `[1, K, 1]` holds the factor values themselves."""

    name = "identity"
    factor_names = ("a", "b", "c", "d")
    factor_sizes = (5, 5, 5, 5)
    observation_shape = (1, 4, 1)

    def sample_factors(self, rng, n):
        import jax

        return jax.random.randint(rng, (n, 4), 0, 5)

    def observations_from_factors(self, factors, rng=None):
        return factors.astype("float32").reshape(-1, 1, 4, 1)


def identity_representation(images):
    return images.reshape(images.shape[0], -1)
