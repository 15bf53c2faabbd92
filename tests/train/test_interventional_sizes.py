"""Evaluation sizes of the interventional metrics: a run's `eval.num_samples` and
`eval.num_test_samples` size them (`suite.interventional_sizes`), in a single run's evaluation and
in a population's, so a tiny config's evaluation encodes few images."""

import jax
import pytest
from conftest import tiny_config

from disentax.train import build, evaluate, sweep
from disentax.train.population import Population

NUM_SAMPLES, NUM_TEST_SAMPLES = 8, 4
BATCH = 64  # the BetaVAE score's image pairs per point (disentanglement_lib's, not a size)


@pytest.fixture
def encoded(monkeypatch):
    """The images the evaluation's representation function encodes, counted as its calls run
    (inside jit too), in `evaluate` (which also holds the population's evaluation)."""
    counts = []
    real = evaluate.codes

    def counting(params, images, key, *, model, kind):
        jax.debug.callback(counts.append, images.shape[0])
        return real(params, images, key, model=model, kind=kind)

    monkeypatch.setattr(evaluate, "codes", counting)  # the single and the population evaluation
    return counts


def small_config():
    return tiny_config(
        **{
            "eval.num_samples": NUM_SAMPLES,
            "eval.num_test_samples": NUM_TEST_SAMPLES,
            "eval.representations": "mean",
        }
    )


def test_a_small_evaluation_draws_small_interventional_samples(encoded):
    """BetaVAE score: num_samples training and num_test_samples evaluation points of two batches
    of 64 images each; the issue's tiny run drew disentanglement_lib's 15,000 points (1.92 M
    images) whatever its eval.num_samples."""
    config = small_config()
    run = build(config)
    scores = evaluate.metric_scores(
        run, run.init_state().params, jax.random.PRNGKey(0), "beta_vae_score"
    )
    assert set(scores) == {
        "eval/beta_vae_score/train_accuracy",
        "eval/beta_vae_score/eval_accuracy",
    }
    assert sum(map(int, encoded)) == 2 * BATCH * (NUM_SAMPLES + NUM_TEST_SAMPLES)


def test_a_population_evaluation_uses_the_same_sizes(encoded):
    population = Population.create([small_config()], "loop")
    rows = sweep.evaluate_population(population, population.init_state(), "beta_vae_score")
    assert len(rows) == 1 and "eval/beta_vae_score/eval_accuracy" in rows[0]
    assert sum(map(int, encoded)) == 2 * BATCH * (NUM_SAMPLES + NUM_TEST_SAMPLES)
