"""Populations: each member trains exactly as alone; NaN isolation; grouping; bad specs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config

from disentax.errors import UserError
from disentax.objectives import OBJECTIVES, beta_vae
from disentax.train import build
from disentax.train.population import Population, group

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
