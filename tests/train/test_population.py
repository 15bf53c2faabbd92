"""Populations: each member trains exactly as alone (objective and optimizer values as arrays);
NaN isolation; grouping; one shared evaluation key; resume; export."""

import csv

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config

from disentax.errors import UserError
from disentax.objectives import OBJECTIVES, beta_vae
from disentax.train import build, evaluate_workdir
from disentax.train.evaluate import metric_scores
from disentax.train.population import Population, group
from disentax.train.sweep import (
    EVAL_SEED,
    evaluate_population,
    export_member,
    run_sweep,
    train_population,
)

STEPS = 3


def member_configs():
    return [
        tiny_config(seed=seed, **{"objective.beta": beta})
        for seed, beta in ((0, 1.0), (1, 4.0), (2, 8.0))
    ]


def alone(config, steps):
    run = build(config)
    state = run.init_state()
    for step in range(steps):
        state, _ = run.step_fn(state, run.batch_fn(step))
    return state


@pytest.fixture(scope="module")
def alone_states():
    return [alone(c, STEPS) for c in member_configs()]


@pytest.mark.parametrize("strategy", ["vmap", "loop"])
def test_each_member_ends_as_if_trained_alone(strategy, alone_states):
    population = Population.create(member_configs(), strategy=strategy)
    assert set(population.hparams) == {"beta"}
    pop = population.init_state()
    for step in range(STEPS):
        pop, metrics = population.step_fn(pop, population.batch_fn(step))
    assert metrics["loss"].shape == (3,) and bool(jnp.all(pop.alive))
    for m, expected in enumerate(alone_states):
        got = population.member(pop, m)
        assert int(got.step) == STEPS
        for a, b in zip(jax.tree.leaves(got.params), jax.tree.leaves(expected.params), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_diverging_member_is_frozen_and_the_others_carry_on():
    def nan_when_beta_large(params, batch, rng, *, model, step, beta=1.0):
        loss, metrics = beta_vae(params, batch, rng, model=model, step=step, beta=beta)
        bad = jnp.where((beta > 5.0) & (step >= 1), jnp.nan, 0.0)
        return loss + bad, {**metrics, "loss": loss + bad}

    if "test_nan_when_beta_large" not in OBJECTIVES:
        OBJECTIVES.register("test_nan_when_beta_large", nan_when_beta_large)
    configs = member_configs()
    for c in configs:
        c.objective.name = "test_nan_when_beta_large"
    population = Population.create(configs, strategy="vmap")
    pop = population.init_state()
    after_one = None
    for step in range(STEPS):
        pop, _ = population.step_fn(pop, population.batch_fn(step))
        if step == 0:
            after_one = jax.tree.map(np.asarray, population.member(pop, 2).params)
    assert pop.alive.tolist() == [True, True, False]
    frozen = population.member(pop, 2)
    for a, b in zip(jax.tree.leaves(frozen.params), jax.tree.leaves(after_one), strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(np.asarray(jax.tree.leaves(population.member(pop, 0).params)[0])).all()


def test_grouping_and_refused_mixtures():
    configs = member_configs() + [tiny_config(**{"objective.beta": 2.0, "batch_size": 16})]
    assert group(configs) == [[0, 1, 2], [3]]
    with pytest.raises(UserError, match="member 3 differs from member 0 in batch_size"):
        Population.create(configs)
    with pytest.raises(UserError, match="needs at least one member"):
        Population.create([])


def test_sweep_resumes_exactly_writes_results_and_exports_a_member(tmp_path):
    configs = [
        tiny_config(seed=s, num_steps=4, **{"objective.beta": b}) for s, b in ((0, 1.0), (1, 8.0))
    ]
    straight = train_population(configs, tmp_path / "straight", progress=False)
    for c in configs:
        c.num_steps = 2
    run_sweep(configs, tmp_path / "resumed", progress=False)
    for c in configs:
        c.num_steps = 4
    resumed = run_sweep(configs, tmp_path / "resumed", progress=False)
    assert [r["train/loss"] for r in resumed] == [r["train/loss"] for r in straight]
    assert [r["beta"] for r in resumed] == [1.0, 8.0] and all(r["alive"] for r in resumed)
    for row in resumed:
        assert 0.0 <= row["eval/mig"] <= 1.0 and np.isfinite(row["eval/sampled/irs"])
    with (tmp_path / "resumed" / "results.csv").open() as f:
        table = list(csv.DictReader(f))
    assert [int(r["seed"]) for r in table] == [0, 1] and "eval/modularity" in table[0]
    assert (tmp_path / "resumed" / "plots" / "rank_correlation.png").exists()
    exported = export_member(tmp_path / "resumed", 1, tmp_path / "member1")
    single = evaluate_workdir(exported)
    assert single["step"] == 4 and 0.0 <= single["eval/mig"] <= 1.0
    scored = [k for k in resumed[1] if k.startswith("eval/") and k in single]
    assert "eval/mig" in scored and "eval/sampled/irs" in scored
    for name in scored:  # one evaluation seed: the exported run scores as its results row
        if not name.startswith("eval/loss") and name != "eval/psnr":
            assert single[name] == pytest.approx(resumed[1][name], abs=1e-5), name
    with pytest.raises(UserError, match="holds another population"):
        train_population(configs[:1], tmp_path / "resumed", progress=False)


def test_members_differing_in_optimizer_values_share_one_population():
    """Learning rate, weight decay (and β) as population arrays: one population, each member
    as if trained alone with its own optimizer; zero and positive weight decay (Adam vs AdamW)
    are two populations."""
    settings = ((0, 1e-3, 1e-2, 1.0), (1, 3e-4, 1e-1, 4.0), (2, 1e-3, 0.0, 1.0))
    configs = [
        tiny_config(
            seed=s,
            **{
                "optimizer.learning_rate": lr,
                "optimizer.weight_decay": wd,
                "objective.beta": beta,
            },
        )
        for s, lr, wd, beta in settings
    ]
    assert group(configs) == [[0, 1], [2]]
    population = Population.create(configs[:2], strategy="vmap")
    assert set(population.hparams) == {
        "beta",
        "optimizer.learning_rate",
        "optimizer.weight_decay",
    }
    assert population.describe()[1]["optimizer.learning_rate"] == 3e-4
    pop = population.init_state()
    for step in range(STEPS):
        pop, _ = population.step_fn(pop, population.batch_fn(step))
    for m, config in enumerate(configs[:2]):
        expected = alone(config, STEPS)
        got = population.member(pop, m)
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    bad = [configs[0], tiny_config(seed=1, **{"optimizer.weight_decay": 0.5})]
    bad[1].optimizer.learning_rate = -1.0
    with pytest.raises(UserError, match="'optimizer.learning_rate' must be positive"):
        Population.create(bad)


def test_members_are_scored_on_one_shared_evaluation_key():
    """Every member is evaluated on the same images (disentanglement_lib's one evaluation seed):
    row m is member m scored alone with that key, whatever the other members and their order."""
    configs = member_configs()
    population = Population.create(configs, strategy="loop")
    pop = population.init_state()
    names = "mig,sap"
    rows = evaluate_population(population, pop, names)
    key = jax.random.PRNGKey(EVAL_SEED)
    for m, config in enumerate(configs):
        alone_scores = metric_scores(build(config), population.member(pop, m).params, key, names)
        assert rows[m].keys() == alone_scores.keys()
        for name, value in alone_scores.items():
            assert rows[m][name] == pytest.approx(value, abs=1e-6), (m, name)
    reversed_population = Population.create(configs[::-1], strategy="loop")
    reversed_rows = evaluate_population(
        reversed_population, reversed_population.init_state(), names
    )
    for row, expected in zip(reversed_rows, rows[::-1], strict=True):
        assert row == pytest.approx(expected, abs=1e-6)
