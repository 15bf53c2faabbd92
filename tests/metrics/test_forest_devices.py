"""The random forest split over 3 simulated CPU devices: every tree, probability and prediction
as on one device, also under vmap over a population of representations."""

import os
import textwrap

import jax
import numpy as np
import pytest

from disentax.metrics import dci
from disentax.metrics.estimators.forest import fit_random_forest, random_forest_predict

SCRIPT = textwrap.dedent("""
    import json, sys
    import jax, numpy as np
    sys.path.insert(0, sys.argv[1])
    from test_forest_devices import problem, forest, population_dci

    out = {"devices": jax.device_count(), "forest": forest(), "population": population_dci()}
    print(json.dumps(out))
""")


def problem(seed=0, n=300):
    """Codes `[n, 4]` that carry two factors of 5 and 3 values, with noise."""
    rng = np.random.default_rng(seed)
    factors = np.stack([rng.integers(0, 5, n), rng.integers(0, 3, n)], 1).astype(np.int32)
    codes = np.concatenate([factors + 0.3 * rng.normal(size=(n, 2)), rng.normal(size=(n, 2))], 1)
    return codes.astype(np.float32), factors


def forest():
    """A 7-tree forest (7 = 2·3 + 1 pads on 3 devices) and its predictions, as lists."""
    codes, factors = problem()
    model, importance = fit_random_forest(
        codes, factors[:, 0], jax.random.PRNGKey(3), 5, num_trees=7, depth=4
    )
    edges, trees, probas = model
    return {
        "features": [np.asarray(f).tolist() for f in trees[0]],
        "thresholds": [np.asarray(t).tolist() for t in trees[1]],
        "probas": np.asarray(probas).tolist(),
        "importance": np.asarray(importance).tolist(),
        "predicted": np.asarray(random_forest_predict(model, codes[:100])).tolist(),
    }


def population_dci():
    """DCI (random forest) of two representations in one vmapped call, and of each alone."""
    codes, factors = problem()
    population = np.stack([codes, codes[:, ::-1]])

    def score(c):
        return dci(
            c[:200],
            factors[:200],
            c[200:],
            factors[200:],
            estimator="random_forest",
            num_classes=(5, 3),
        )

    batched = jax.vmap(score)(population)
    alone = [score(c) for c in population]
    keys = ("disentanglement", "completeness", "informativeness_test")
    return {k: [np.asarray(batched[k]).tolist(), [float(a[k]) for a in alone]] for k in keys}


@pytest.fixture(scope="module")
def three_devices(on_devices):
    return on_devices(SCRIPT, 3, os.path.dirname(os.path.abspath(__file__)), timeout=600)[0]


def test_every_tree_and_prediction_equals_the_single_device_forest(three_devices):
    assert three_devices["devices"] == 3 and jax.device_count() == 1
    split, alone = three_devices["forest"], forest()
    for key in ("features", "thresholds", "probas", "predicted"):
        assert split[key] == alone[key], key
    # the forest's mean over trees may sum in another order: float32 rounding only
    np.testing.assert_allclose(split["importance"], alone["importance"], atol=1e-6)


def test_a_vmapped_population_on_three_devices_scores_each_member_as_alone(three_devices):
    alone = population_dci()
    for key, (batched, each) in three_devices["population"].items():
        np.testing.assert_allclose(batched, each, atol=1e-6, err_msg=key)
        np.testing.assert_allclose(batched, alone[key][1], atol=1e-6, err_msg=key)
