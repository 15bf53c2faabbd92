"""FactorVAE score against a numpy transcription of disentanglement_lib's majority vote."""

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from classifier_cases import IdentityData, identity_representation
from test_beta_vae_score import ref_identity_codes, ref_identity_factors

from disentax import data
from disentax.data.base import FactorGrid
from disentax.errors import UserError
from disentax.metrics import factor_vae_score
from disentax.metrics.factor_vae_score import chunk_factors
from disentax.metrics.sampling import uniform_factors


@dataclasses.dataclass(frozen=True)
class Readback(FactorGrid):
    """A procedural dataset whose images hold the factors: pixel k = v_k / (size_k − 1) for the
    K factors, then K uniform noise pixels drawn from the nuisance key."""

    name: ClassVar[str] = "readback"
    factor_names: ClassVar[tuple[str, ...]] = ("a", "b", "c")
    factor_sizes: ClassVar[tuple[int, ...]] = (4, 5, 6)
    observation_shape: ClassVar[tuple[int, int, int]] = (1, 6, 1)

    def observations_from_factors(self, factors_NxK, rng=None):
        scale = jnp.asarray(self.factor_sizes, jnp.float32) - 1.0
        factors = jnp.asarray(factors_NxK, jnp.float32) / scale
        noise = jax.random.uniform(rng, factors.shape)
        return jnp.concatenate([factors, noise], axis=1)[:, None, :, None]


DATASET = Readback()
OPTIONS = dict(batch_size=16, num_train=300, num_eval=200, num_variance_estimate=1000)
IMAGES_PER_CALL = 1600  # 100 votes per call for both splits
draw_factors = jax.jit(uniform_factors, static_argnums=(1, 2))
draw_chunk = jax.jit(chunk_factors, static_argnums=(0, 1, 2))


def perfect(images):
    return images[:, 0, :3, 0]


def noise(images):
    return images[:, 0, 3:, 0]


def mixed(images):
    """Factor a with noise, factor b shrunk below the 0.05 pruning threshold, pure noise, and
    factor c with more noise."""
    x = images[:, 0, :, 0]
    return jnp.stack([x[:, 0] + 0.3 * x[:, 3], 0.01 * x[:, 1], x[:, 4], x[:, 2] + x[:, 5]], 1)


def score(fn, seed=0, **options):
    return factor_vae_score(
        DATASET, fn, jax.random.key(seed), images_per_call=IMAGES_PER_CALL, **OPTIONS, **options
    )


# --- reference: disentanglement_lib factor_vae.py on the same samples ---


def ref_factor_vae(global_codes, train_batches, eval_batches, num_factors, threshold=0.05):
    global_variances = np.var(global_codes, axis=0, ddof=1)
    active_dims = np.sqrt(global_variances) >= threshold
    if not active_dims.any():
        return 0.0, 0.0

    def votes(batches):
        counts = np.zeros((num_factors, global_variances.shape[0]), dtype=np.int64)
        for factor_index, representations in batches:
            local_variances = np.var(representations, axis=0, ddof=1)
            argmin = np.argmin(local_variances[active_dims] / global_variances[active_dims])
            counts[factor_index, argmin] += 1
        return counts

    return ref_accuracies(votes(train_batches), votes(eval_batches))


def ref_accuracies(training_votes, eval_votes):
    classifier = np.argmax(training_votes, axis=0)
    other_index = np.arange(training_votes.shape[1])
    train_accuracy = np.sum(training_votes[classifier, other_index]) / np.sum(training_votes)
    eval_accuracy = np.sum(eval_votes[classifier, other_index]) / np.sum(eval_votes)
    return train_accuracy, eval_accuracy


def ref_generate_training_sample(
    sample_factors,
    representation_function,
    batch_size,
    rs,
    global_variances,
    active_dims,
    num_factors=4,
):
    """`representation_function` maps factors to codes (rendering included)."""
    factor_index = rs.randint(num_factors)
    factors = sample_factors(batch_size, rs)
    factors[:, factor_index] = factors[0, factor_index]
    representations = representation_function(factors)
    local_variances = np.var(representations, axis=0, ddof=1)
    argmin = np.argmin(local_variances[active_dims] / global_variances[active_dims])
    return factor_index, argmin


def ref_generate_training_batch(
    sample_factors, representation_function, batch_size, num_points, rs, *variances, num_factors=4
):
    """One vote per Python iteration, as `_generate_training_batch`."""
    votes = np.zeros((num_factors, variances[0].shape[0]), dtype=np.int64)
    for _ in range(num_points):
        factor_index, argmin = ref_generate_training_sample(
            sample_factors, representation_function, batch_size, rs, *variances, num_factors
        )
        votes[factor_index, argmin] += 1
    return votes


def ref_factor_vae_score(
    batch_size=64,
    num_train=10000,
    num_eval=5000,
    num_variance_estimate=10000,
    seed=0,
    sample_factors=ref_identity_factors,
    representation_function=ref_identity_codes,
    num_factors=4,
):
    """`compute_factor_vae` with prune threshold 0.05 (by default on the identity data with the
    identity representation: every dim is active); the variances come from one representation
    call on all `num_variance_estimate` observations, as `_compute_variances`."""
    rs = np.random.RandomState(seed)
    codes = representation_function(sample_factors(num_variance_estimate, rs))
    global_variances = np.var(codes, axis=0, ddof=1)
    variances = global_variances, np.sqrt(global_variances) >= 0.05
    draw = (sample_factors, representation_function, batch_size)
    training_votes = ref_generate_training_batch(
        *draw, num_train, rs, *variances, num_factors=num_factors
    )
    eval_votes = ref_generate_training_batch(
        *draw, num_eval, rs, *variances, num_factors=num_factors
    )
    train_accuracy, eval_accuracy = ref_accuracies(training_votes, eval_votes)
    return {"train_accuracy": train_accuracy, "eval_accuracy": eval_accuracy}


def same_samples(fn, seed, batch_size, num_train, num_eval, num_variance_estimate):
    """The samples `factor_vae_score` draws: codes for the variances and per-vote batches."""
    variance_key, train_key, eval_key = jax.random.split(jax.random.key(seed), 3)
    factor_key, nuisance_key = jax.random.split(jax.random.fold_in(variance_key, 0))
    factors = draw_factors(factor_key, DATASET.factor_sizes, num_variance_estimate)
    global_codes = np.asarray(fn(DATASET.observations_from_factors(factors, nuisance_key)))
    per_call = IMAGES_PER_CALL // batch_size

    def batches(key, n):
        out = []
        for chunk in range(-(-n // per_call)):
            k, factors, nuisance_key, valid = draw_chunk(
                DATASET, batch_size, per_call, key, chunk, n
            )
            codes = np.asarray(fn(DATASET.observations_from_factors(factors, nuisance_key)))
            codes = codes.reshape(per_call, batch_size, -1)
            out += [(int(k[v]), codes[v]) for v in range(per_call) if valid[v]]
        return out

    return global_codes, batches(train_key, num_train), batches(eval_key, num_eval)


# --- tests ---


def chi_square_is_uniform(values, num_values):
    """Pearson's χ² of the counts of `values` against uniform on 0..num_values − 1 is below its
    mean + 6 standard deviations (dof + 6·√(2·dof))."""
    counts = np.bincount(values, minlength=num_values)
    expected = len(values) / num_values
    dof = num_values - 1
    return np.sum((counts - expected) ** 2 / expected) < dof + 6 * np.sqrt(2 * dof)


def test_uniform_factors_are_uniform_independent_and_deterministic():
    """dSprites' sizes (1, 3, 6, 40, 32, 32) as int32 `[n, 6]` in range: each factor, a pair
    packed in one word (scale, orientation) and a pair across words (orientation, pos_y) pass a
    χ² test of uniformity over 200,000 draws; the same key gives the same draw."""
    sizes, n = (1, 3, 6, 40, 32, 32), 200_000
    factors = np.asarray(draw_factors(jax.random.key(0), sizes, n))
    assert factors.dtype == np.int32 and factors.shape == (n, 6)
    assert np.all(factors >= 0) and np.all(factors < np.array(sizes))
    for k, size in enumerate(sizes[1:], start=1):
        assert chi_square_is_uniform(factors[:, k], size)
    assert chi_square_is_uniform(factors[:, 2] * 40 + factors[:, 3], 6 * 40)
    assert chi_square_is_uniform(factors[:, 3] * 32 + factors[:, 5], 40 * 32)
    np.testing.assert_array_equal(draw_factors(jax.random.key(0), sizes, n), factors)
    assert not np.array_equal(draw_factors(jax.random.key(1), sizes, n), factors)


def test_uniform_factors_reject_the_words_that_would_bias_the_modulus():
    """One factor of P = 1.5·10⁹ + 1 values: u mod P over all 2³² words u would give the values
    below 2³² − 2P ≈ 1.29·10⁹ three preimages and the rest two (P(v < P/2) = 3P/2³³ ≈ 0.524);
    rejecting u ≥ 2P (about 30 % of the words, redrawn) makes P(v < P/2) = 1/2, here within
    0.01 (4 standard errors) over 40,000 draws (without the rejection: 0.5216)."""
    size = 1_500_000_001
    values = np.asarray(draw_factors(jax.random.key(0), (size,), 40_000))[:, 0]
    assert values.min() >= 0 and values.max() < size
    assert abs(np.mean(values < size // 2) - 0.5) < 0.01


def test_votes_fix_one_factor_per_batch():
    k, factors, _, valid = draw_chunk(DATASET, 16, 100, jax.random.key(3), 1, 150)
    factors = np.asarray(factors).reshape(100, 16, 3)
    for v in range(100):
        assert np.all(factors[v, :, k[v]] == factors[v, 0, k[v]])
    assert np.sum(valid) == 50 and np.all(valid[:50])


def test_matches_transcription_on_same_samples():
    scores = score(mixed, seed=1)
    samples = same_samples(mixed, 1, **OPTIONS)
    train, evaluation = ref_factor_vae(*samples, num_factors=3)
    assert 0.4 < train < 1.0  # a non-trivial vote matrix
    np.testing.assert_allclose(scores["train_accuracy"], train, rtol=0, atol=1e-6)
    np.testing.assert_allclose(scores["eval_accuracy"], evaluation, rtol=0, atol=1e-6)
    assert scores["num_active_dims"] == 3  # the shrunk dim is pruned


def test_sampler_agrees_with_the_reference_loop_in_distribution():
    """Identity data and representation, batch 2: the fixed factor's dim has local variance 0
    and a free dim ties at 0 with probability 1/5; argmin takes the first, so factor k votes
    for dim j < k with probability (1/5)(4/5)^j and for k itself with (4/5)^k, the majority
    maps dim j to factor j, and both accuracies are (1/4) Σ_j (4/5)^j = 0.738. 4,000 votes per
    split from each sampler: all four accuracies within 0.03 (≈ 4 binomial standard errors)."""
    sizes = dict(batch_size=2, num_train=4000, num_eval=4000, num_variance_estimate=1000)
    expected = 0.25 * sum(0.8**j for j in range(4))
    reference = ref_factor_vae_score(**sizes)
    ours = factor_vae_score(IdentityData(), identity_representation, jax.random.key(0), **sizes)
    print(f"factor_vae batch 2: expected {expected:.4f}, reference {reference}, ours {ours}")
    for scores in (reference, ours):
        assert abs(scores["train_accuracy"] - expected) < 0.03
        assert abs(scores["eval_accuracy"] - expected) < 0.03


def test_perfect_representation_scores_one_and_noise_chance():
    scores = score(perfect)
    assert scores["train_accuracy"] == 1.0 and scores["eval_accuracy"] == 1.0
    assert scores["num_active_dims"] == 3
    random = score(noise)
    assert random["eval_accuracy"] < 0.5  # chance is 1/3; the train split is fit to noise


def test_constant_representation_scores_zero():
    scores = score(lambda images: jnp.zeros((images.shape[0], 4)))
    assert scores == {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}


def test_host_rendering_path_gives_the_same_score(monkeypatch):
    expected = score(mixed, seed=1)
    monkeypatch.setattr(data, "is_procedural", lambda dataset: False)
    host = score(mixed, seed=1)
    for key in expected:
        np.testing.assert_allclose(host[key], expected[key], rtol=0, atol=1e-6)


def test_user_errors():
    with pytest.raises(UserError, match="batch_size"):
        factor_vae_score(DATASET, perfect, jax.random.key(0), batch_size=1)
    with pytest.raises(UserError, match="codes \\[B, L\\]"):
        score(lambda images: images[:, 0, :, 0].reshape(-1))
