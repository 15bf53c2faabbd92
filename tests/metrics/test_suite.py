"""The metric suite by name: flat keys, scalar results only, one-line errors, populations."""

import inspect

import jax
import numpy as np
import pytest

from disentax import config as config_lib
from disentax import metrics
from disentax.errors import UserError
from disentax.metrics import suite


def problem(seed: int, n: int = 300):
    """Factors [n, 2] with 3 and 4 values; codes that copy them with noise, plus a noise dim."""
    rng = np.random.default_rng(seed)
    factors = np.stack([rng.integers(0, 3, n), rng.integers(0, 4, n)], axis=1)
    codes = np.concatenate([factors + 0.3 * rng.normal(size=(n, 2)), rng.normal(size=(n, 1))], 1)
    return codes.astype(np.float32), factors


def test_score_flattens_keys_and_leaves_out_matrices():
    codes, factors = problem(0)
    results = suite.score("mig, infomec", codes=codes, factors=factors)
    direct = metrics.infomec(codes, factors)
    assert {"infomec/infom", "infomec/infoe", "infomec/infoc"} <= set(results)
    assert "infomec/nmi" not in results and np.shape(direct["nmi"]) == (2, 3)
    scalars = {f"infomec/{k}" for k, v in direct.items() if np.ndim(v) == 0}
    assert set(results) == scalars | {"mig"}
    assert all(isinstance(v, float) for v in results.values())
    assert results["infomec/infom"] == pytest.approx(float(direct["infom"]), abs=1e-6)
    assert results["mig"] == pytest.approx(float(metrics.mig(codes, factors)["mig"]), abs=1e-6)


def test_score_population_equals_per_model_scores():
    pairs = [problem(seed) for seed in (1, 2, 3)]
    factors = pairs[0][1]
    codes = np.stack([c for c, _ in pairs])  # three models' codes of the same samples
    population = suite.score_population("mig,modularity", codes=codes, factors=factors)
    assert len(population) == 3
    for m, per_model in enumerate(population):
        alone = suite.score("mig,modularity", codes=codes[m], factors=factors)
        assert per_model.keys() == alone.keys()
        for key, value in alone.items():
            assert per_model[key] == pytest.approx(value, abs=1e-6)


def test_score_population_scores_every_model_on_the_same_rng():
    # Codes a + b and a - b share factors a and b, so the FactorVAE votes, and the score, depend
    # on the key: the same model twice in a population gets the row it gets alone.
    from classifier_cases import IdentityData

    mixing = np.eye(4, dtype=np.float32)
    mixing[:2, :2] = [[1.0, 1.0], [1.0, -1.0]]
    mixed = lambda images: images.reshape(images.shape[0], -1) @ mixing
    data, codes = IdentityData(), np.zeros((2, 1, 1), np.float32)
    name = "factor_vae_score"
    rows = suite.score_population(
        name, codes=codes, dataset=data, representation_fns=[mixed, mixed], rng=jax.random.key(3)
    )
    alone = suite.score(name, dataset=data, representation_fn=mixed, rng=jax.random.key(3))
    other = suite.score(name, dataset=data, representation_fn=mixed, rng=jax.random.key(4))
    assert rows[0] == rows[1] == alone
    assert other[f"{name}/train_accuracy"] != alone[f"{name}/train_accuracy"]  # the key matters


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda c, f: suite.score("mig,nope", codes=c, factors=f), "nope"),
        (lambda c, f: suite.score(" , ", codes=c, factors=f), "no metric named"),
        (lambda c, f: suite.score("sap", codes=c, factors=f), "test_codes"),
        (lambda c, f: suite.score_population("mig", codes=c, factors=f), r"\[M, N, L\]"),
    ],
)
def test_bad_requests_are_one_line_errors(call, message):
    codes, factors = problem(4)
    with pytest.raises(UserError, match=message) as error:
        call(codes, factors)
    assert "\n" not in str(error.value)


def test_needs_names_the_input_kinds():
    assert suite.needs("mig,unsupervised,dci") == {suite.SAMPLE, suite.CODES, suite.SPLIT}


def test_interventional_sizes_are_disentanglement_libs_at_the_default_evaluation():
    """At eval.num_samples = 10,000 and num_test_samples = 5,000 the suite passes each
    interventional metric exactly its own defaults, which are disentanglement_lib's sizes."""
    config = config_lib.load_config("beta_vae")
    for name in suite.SUITE.names():
        if suite.SUITE.get(name).kind != suite.INTERVENTIONAL:
            continue
        sizes = suite.interventional_sizes(
            name, config.eval.num_samples, config.eval.num_test_samples
        )
        defaults = inspect.signature(suite.SUITE.get(name).fn).parameters
        assert sizes and {k: defaults[k].default for k in sizes} == sizes, name
    assert suite.interventional_sizes("downstream")["num_train"] == (10, 100, 1000, 10000)
    assert suite.interventional_sizes("fairness")["num_test_points_per_class"] == 100
    assert suite.interventional_sizes("mig") == {}


def test_interventional_sizes_follow_a_small_evaluation():
    tiny = config_lib.load_config("beta_vae:tiny").eval
    n, m = tiny.num_samples, tiny.num_test_samples  # 256, 128
    assert suite.interventional_sizes("beta_vae_score", n, m) == {"num_train": n, "num_eval": m}
    assert suite.interventional_sizes("factor_vae_score", n, m) == {
        "num_train": n,
        "num_eval": m,
        "num_variance_estimate": n,
    }
    assert suite.interventional_sizes("fairness", n, m) == {
        "num_train": n,
        "num_test_points_per_class": 3,
    }
    assert suite.interventional_sizes("downstream", n, m) == {
        "num_train": (10, 100, n),
        "num_test": m,
    }
    with pytest.raises(UserError, match="num_samples must be an int >= 2"):
        suite.interventional_sizes("downstream", 1, m)
