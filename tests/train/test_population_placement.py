"""A population on a ("pop", "data") mesh of 4 simulated CPU devices: same numbers as on one."""

import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json
    import jax, numpy as np
    from jax.sharding import PartitionSpec
    from disentax import config as config_lib
    from disentax.errors import UserError
    from disentax.train import parallel
    from disentax.train.population import Population
    from disentax.train.sweep import evaluate_population

    def member_configs(n):
        configs = []
        for seed in range(n):
            c = config_lib.load_config("beta_vae:tiny")
            c.seed, c.objective.beta = seed, float(2**seed)
            configs.append(c)
        return configs

    def trained(strategy, mesh, evaluate, steps=2):
        population = Population.create(member_configs(4), strategy, mesh)
        pop = population.init_state()
        for step in range(steps):
            batches = population.batch_fn(step)
            pop, metrics = population.step_fn(pop, batches)
        rows = evaluate_population(population, pop, "mig") if evaluate else []
        leaves = [np.asarray(x) for x in jax.tree.leaves(pop.members.params)]
        leaf = jax.tree.leaves(pop.members.params)[0]
        return leaves, {
            "mesh": dict(population.mesh.shape),
            "members_on_pop": leaf.sharding.spec == PartitionSpec("pop"),
            "param_shard_rows": sorted({s.data.shape[0] for s in leaf.addressable_shards}),
            "batch_shard": sorted({s.data.shape[:2] for s in batches["image"].addressable_shards}),
            "loss": np.asarray(metrics["loss"]).tolist(),
            "mig": [r["eval/mig"] for r in rows],
        }

    devices = jax.devices()
    reference, out = trained("vmap", parallel.population_mesh(1, devices[:1]), True)
    out = {"one_device": out}
    for name, strategy, mesh, evaluate in (
        ("pop2_data2", "vmap", parallel.population_mesh(2), True),
        ("loop_data4", "loop", None, False),
    ):
        leaves, out[name] = trained(strategy, mesh, evaluate)
        out[name]["max_param_diff"] = max(
            float(np.max(np.abs(a - b))) for a, b in zip(leaves, reference, strict=True))
    out["default_meshes"] = [
        dict(Population.create(member_configs(n), strategy).mesh.shape)
        for n, strategy in ((4, "vmap"), (2, "vmap"), (4, "loop"))
    ]
    errors = []
    for members, pop in ((3, 2), (2, 3)):
        try:
            Population.create(member_configs(members), "vmap", parallel.population_mesh(pop))
        except UserError as e:
            errors.append(str(e))
    out["errors"] = errors
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def placed(on_devices):
    return on_devices(SCRIPT, 4)[0]


def test_sharded_population_matches_one_device(placed):
    one = placed["one_device"]
    assert one["mesh"] == {"pop": 1, "data": 1} and one["batch_shard"] == [[4, 8]]
    expected = {
        "pop2_data2": ({"pop": 2, "data": 2}, [2], [[2, 4]]),
        "loop_data4": ({"pop": 1, "data": 4}, [4], [[4, 2]]),
    }
    for name, (mesh, param_rows, batch_shard) in expected.items():
        got = placed[name]
        assert got["mesh"] == mesh and got["members_on_pop"], name
        assert got["param_shard_rows"] == param_rows and got["batch_shard"] == batch_shard, name
        assert got["max_param_diff"] <= 1e-5, name
        # Bernoulli losses are sums over 4096 pixels: float32 resolves ~2.4e-4 of them.
        assert got["loss"] == pytest.approx(one["loss"], rel=1e-5), name
    assert placed["pop2_data2"]["mig"] == pytest.approx(one["mig"], abs=1e-6)


def test_default_mesh_spreads_members_under_vmap_and_the_batch_under_loop(placed):
    assert placed["default_meshes"] == [
        {"pop": 4, "data": 1},
        {"pop": 2, "data": 2},
        {"pop": 1, "data": 4},
    ]


def test_members_or_devices_that_do_not_divide_are_one_line_errors(placed):
    members, devices = placed["errors"]
    assert "3 members cannot be split over a population axis of 2" in members
    assert "the population axis (3) must divide the device count (4)" in devices
    assert "\n" not in members + devices
