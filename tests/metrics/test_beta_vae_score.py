"""BetaVAE score: disentanglement_lib's sampler (closed-form checks) and its classifier step
against sklearn."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from classifier_cases import IdentityData, identity_representation
from sklearn.linear_model import LogisticRegression

from disentax import data
from disentax.errors import UserError
from disentax.metrics import beta_vae_score
from disentax.metrics.beta_vae_score import beta_vae_features

SIZES = {"batch_size": 5, "num_train": 400, "num_eval": 200}

# --- reference: disentanglement_lib evaluation/metrics/beta_vae.py, transcribed ---


def ref_identity_factors(num, random_state):
    """IdentityObservationsData.sample_factors (4 factors of 5 values); its observations are the
    factors themselves."""
    return random_state.randint(5, size=(num, 4))


def ref_identity_codes(factors):
    """The identity representation of the identity data's observations (the factors)."""
    return factors.astype(np.float64)


def ref_generate_training_sample(
    sample_factors, representation_function, batch_size, rs, num_factors=4
):
    """`representation_function` maps factors to codes (rendering included)."""
    index = rs.randint(num_factors)
    factors1 = sample_factors(batch_size, rs)
    factors2 = sample_factors(batch_size, rs)
    factors2[:, index] = factors1[:, index]
    representation1 = representation_function(factors1)
    representation2 = representation_function(factors2)
    return index, np.mean(np.abs(representation1 - representation2), axis=0)


def ref_generate_training_batch(
    sample_factors, representation_function, batch_size, num, rs, num_factors=4
):
    """One point at a time, as `_generate_training_batch`."""
    points, labels = None, np.zeros(num, dtype=np.int64)
    for i in range(num):
        labels[i], feature = ref_generate_training_sample(
            sample_factors, representation_function, batch_size, rs, num_factors
        )
        if points is None:
            points = np.zeros((num, feature.shape[0]))
        points[i, :] = feature
    return points, labels


def ref_beta_vae_score(
    batch_size=64,
    num_train=10000,
    num_eval=5000,
    seed=0,
    sample_factors=ref_identity_factors,
    representation_function=ref_identity_codes,
    num_factors=4,
):
    """`compute_beta_vae_sklearn` (by default on the identity data with the identity
    representation)."""
    rs = np.random.RandomState(seed)
    draw = (sample_factors, representation_function, batch_size)
    x, y = ref_generate_training_batch(*draw, num_train, rs, num_factors)
    model = LogisticRegression(random_state=rs).fit(x, y)
    x_eval, y_eval = ref_generate_training_batch(*draw, num_eval, rs, num_factors)
    return {
        "train_accuracy": np.mean(model.predict(x) == y),
        "eval_accuracy": np.mean(model.predict(x_eval) == y_eval),
    }


def test_sampler_agrees_with_the_reference_loop_in_distribution():
    """Batch 1 (a feature is |u − v| of one pair, 0 with probability 1/5 for a free factor, so
    accuracies are well below 1), 4,000 points from each sampler: the fixed factor's feature is
    exactly 0; per label, the mean feature vectors agree within 0.2 (≈ 4 standard errors of the
    difference); over all free coordinates both match E|u − v| = 1.6 and P(u = v) = 0.2 for u, v
    uniform on 0..4 within 0.05 (≈ 4 standard errors); sklearn's held-out accuracy on each
    feature set agrees within 0.05 (≈ 4 binomial standard errors)."""
    n, batch = 4000, 1
    reference = ref_generate_training_batch(
        ref_identity_factors, ref_identity_codes, batch, n, np.random.RandomState(0)
    )
    ours = beta_vae_features(
        IdentityData(), identity_representation, jax.random.PRNGKey(0), n, batch
    )
    accuracies = []
    for x, y in (reference, ours):
        x, y = np.asarray(x, np.float64), np.asarray(y)
        np.testing.assert_array_equal(x[np.arange(n), y], 0.0)
        free = x[np.arange(4)[None, :] != y[:, None]]
        assert abs(free.mean() - 1.6) < 0.05 and abs(np.mean(free == 0) - 0.2) < 0.05
        model = LogisticRegression(random_state=0).fit(x[: n // 2], y[: n // 2])
        accuracies.append(np.mean(model.predict(x[n // 2 :]) == y[n // 2 :]))
    for k in range(4):
        np.testing.assert_allclose(
            np.asarray(ours[0])[np.asarray(ours[1]) == k].mean(axis=0),
            reference[0][reference[1] == k].mean(axis=0),
            atol=0.2,
        )
    print(
        f"beta_vae batch 1 accuracy: reference loop {accuracies[0]:.4f}, ours {accuracies[1]:.4f}"
    )
    assert 0.5 < accuracies[0] < 0.9
    assert abs(accuracies[0] - accuracies[1]) <= 0.05


def test_features_are_mean_absolute_differences_with_the_fixed_factor_zero():
    x, y = beta_vae_features(IdentityData(), identity_representation, jax.random.PRNGKey(0), 70, 64)
    assert x.shape == (70, 4) and y.shape == (70,)
    np.testing.assert_array_equal(np.asarray(x)[np.arange(70), np.asarray(y)], 0.0)
    # other factors: E|u − v| for u, v i.i.d. uniform on 0..4 is 1.6
    others = np.asarray(x)[np.arange(4)[None, :] != np.asarray(y)[:, None]]
    assert abs(others.mean() - 1.6) < 0.1 and others.min() > 0
    assert set(np.unique(np.asarray(y))) == {0, 1, 2, 3}


def test_host_rendering_path_draws_the_same_features(monkeypatch):
    key = jax.random.PRNGKey(3)
    device = beta_vae_features(IdentityData(), identity_representation, key, 70, 64)
    monkeypatch.setattr(data, "is_procedural", lambda dataset: False)
    host = beta_vae_features(IdentityData(), identity_representation, key, 70, 64)
    for ours, expected in zip(host, device, strict=True):
        np.testing.assert_array_equal(ours, expected)


def test_golden_identity_representation_scores_near_one():
    for mode in ("jax", "reference"):
        scores = beta_vae_score(
            IdentityData(), identity_representation, jax.random.PRNGKey(1), mode=mode, **SIZES
        )
        assert 0.9 <= float(scores["train_accuracy"]) <= 1.0
        assert 0.9 <= float(scores["eval_accuracy"]) <= 1.0


def test_reference_mode_equals_sklearn_on_the_same_features_and_jax_is_close():
    def noisy(images):
        codes = identity_representation(images)
        noise = jnp.sin(37.0 * jnp.cumsum(codes, axis=1) + codes[:, :1])  # deterministic nuisance
        return codes + 3.0 * noise

    key = jax.random.PRNGKey(2)
    train_key, eval_key = jax.random.split(key)
    x, y = beta_vae_features(IdentityData(), noisy, train_key, SIZES["num_train"], 5)
    x_eval, y_eval = beta_vae_features(IdentityData(), noisy, eval_key, SIZES["num_eval"], 5)
    model = LogisticRegression(random_state=0).fit(np.asarray(x, np.float64), np.asarray(y))
    expected_eval = np.mean(model.predict(np.asarray(x_eval, np.float64)) == np.asarray(y_eval))
    reference = beta_vae_score(IdentityData(), noisy, key, mode="reference", **SIZES)
    np.testing.assert_allclose(reference["eval_accuracy"], expected_eval, atol=1e-6)
    ours = beta_vae_score(IdentityData(), noisy, key, **SIZES)
    print(f"beta_vae eval: jax {float(ours['eval_accuracy']):.4f} ref {expected_eval:.4f}")
    assert abs(float(ours["eval_accuracy"]) - expected_eval) <= 0.02
    assert float(ours["eval_accuracy"]) < 0.9  # the nuisance makes it imperfect


def test_bad_input_raises_one_line_user_error():
    with pytest.raises(UserError) as info:
        beta_vae_score(IdentityData(), identity_representation, jax.random.PRNGKey(0), num_train=0)
    assert "\n" not in str(info.value)
    with pytest.raises(UserError):
        beta_vae_score(
            IdentityData(),
            lambda images: identity_representation(images) * jnp.nan,
            jax.random.PRNGKey(0),
            **SIZES,
        )
