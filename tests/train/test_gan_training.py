"""QLInfoWGAN-GP trains end to end: 5 critic updates per step on stacked batches, both players."""

import math
import pathlib
import shutil
import textwrap

import jax
import ml_collections
import numpy as np
import pytest

from disentax import config as config_lib
from disentax import data
from disentax.models.gan import InfoWGAN
from disentax.models.qlae import ConvStack
from disentax.train import build, train
from disentax.train.checkpoint import Checkpointer
from disentax.train.loop import CHECKPOINT_DIR
from disentax.train.population import Population

CONFIG = "experiments.p02_qlae.config"  # named as a module


def gan_config(model: str, *extra: str):
    return config_lib.load_config(f"{CONFIG}:{','.join((f'model={model}', *extra))}")


def adam_counts(opt_state) -> set[int]:
    """The update counts of every Adam state in an optax state tree."""
    leaves = jax.tree_util.tree_leaves_with_path(opt_state)
    return {int(v) for path, v in leaves if "count" in jax.tree_util.keystr(path)}


def test_ql_info_wgan_trains_both_players_five_critic_updates_per_step(tmp_path):
    """Through `train`: between the step-1 and step-2 checkpoints the critic's Adam counted 5
    updates and the generator's 1, and both players' params (the codebook too) moved."""
    config = gan_config("ql_info_wgan", "dataset=dsprites_procedural", "smoke")
    assert config.model == "ql_info_wgan_tiny" and config.num_steps == 2
    config.checkpoint_every_steps = 1
    metrics = train(config, tmp_path / "run", progress=False)
    assert metrics["step"] == 2
    for name in ("train/loss", "train/loss/critic", "eval/loss/critic", "eval/mig"):
        assert math.isfinite(metrics[name]), name
    target = jax.eval_shape(build(config).init_state)
    directory = tmp_path / "run" / CHECKPOINT_DIR
    states = {}
    for step in (2, 1):  # the newest, then (step 2 removed) the one before
        checkpointer = Checkpointer(directory, max_to_keep=3)
        try:
            states[step] = checkpointer.restore_latest(target)
        finally:
            checkpointer.close()
        shutil.rmtree(directory / str(step))
    for step, state in states.items():
        assert int(state.step) == step
        assert adam_counts(state.opt_state["critic"]) == {5 * step}
        assert adam_counts(state.opt_state["generator"]) == {step}
    for player in ("critic", "generator"):
        old = jax.tree.leaves(states[1].params[player])
        new = jax.tree.leaves(states[2].params[player])
        changed = [not np.array_equal(a, b) for a, b in zip(old, new, strict=True)]
        assert sum(changed) > len(changed) // 2, player  # (the value bias has no gradient)
    codebooks = [states[k].params["generator"]["latent"]["codebook"] for k in (1, 2)]
    assert not np.array_equal(*codebooks)


def test_stacked_batches_are_the_folded_keys_renders():
    """Batch i of step k is `sample_procedural(fold_in(fold_in(data key, k), i))`."""
    run = build(gan_config("info_wgan", "dataset=dsprites_procedural", "smoke"))
    batch = run.batch_fn(3)
    assert batch["image"].shape == (5, 8, 64, 64, 1) and batch["factors"].shape[:2] == (5, 8)
    for i in (0, 4):
        key = jax.random.fold_in(jax.random.fold_in(run.keys.data, 3), i)
        images, factors = data.sample_procedural(run.dataset, key, 8)
        np.testing.assert_array_equal(batch["factors"][i], factors)
        np.testing.assert_allclose(batch["image"][i], images, atol=1e-6)
    assert not np.array_equal(batch["factors"][0], batch["factors"][1])


@pytest.mark.parametrize(
    ("model", "weight_decay", "objective"),
    [("info_wgan", 1e-4, "info_wgan_gp"), ("ql_info_wgan", 1e-3, "ql_info_wgan_gp")],
)
def test_gan_configs_are_the_qlae_train_gan_settings(model, weight_decay, objective):
    config = gan_config(model)
    assert config.objective.name == objective and config.model == model
    assert (config.batch_size, config.num_steps, config.num_latents) == (64, 40_000, 12)
    for player in ("critic", "generator"):
        o = config[f"{player}_optimizer"]
        assert (o.learning_rate, o.b1, o.b2, o.clip) == (2e-4, 0.0, 0.9, 1.0)
        assert o.weight_decay == weight_decay
    assert gan_config(model, "no_weight_decay").generator_optimizer.weight_decay == 0.0


def test_gan_model_reconstructs_through_the_latent_head():
    """`__call__` = G(ẑ(x)) with ẑ the critic's quantized latent head, `encode` its values; the
    prior draws codebook values."""
    stack = ConvStack((2,), (4,), (2,), (4,))  # one block: 8x8 images, a fast compile
    model = InfoWGAN(3, image_size=8, encoder_stack=stack, decoder_stack=stack, num_values=10)
    x = jax.random.uniform(jax.random.PRNGKey(0), (2, 8, 8, 1))

    @jax.jit
    def outputs(key):
        params = model.init(key, x)["params"]
        logits, aux = model.apply({"params": params}, x)
        codes, _ = model.apply({"params": params}, x, method=model.encode)
        decoded = model.apply({"params": params}, codes, method=model.decode)
        z = model.apply({"params": params}, 50, method=model.sample_latents, rngs={"latent": key})
        return params["generator"]["latent"]["codebook"], logits, aux["z"], codes, decoded, z

    codebook, logits, z_hat, codes, decoded, z = outputs(jax.random.PRNGKey(1))
    for values in (codes, z):
        assert all(np.isin(values[:, j], codebook[j]).all() for j in range(3))
    assert len(np.unique(z)) > 3
    np.testing.assert_allclose(z_hat, codes, atol=1e-6)
    np.testing.assert_allclose(logits, decoded, rtol=1e-5, atol=1e-5)


def test_images_per_step_counts_every_critic_batch_and_both_pair_images():
    """`perf/images_per_s` is steps/s × `Run.images_per_step`: a step of QLInfoWGAN-GP reads its
    5 critic batches; a weakly-supervised step reads both images of each pair."""
    gan = gan_config("ql_info_wgan", "dataset=dsprites_procedural", "smoke")
    assert build(gan).images_per_step == 5 * gan.batch_size
    vae = config_lib.load_config("beta_vae:tiny")
    assert build(vae).images_per_step == vae.batch_size
    vae.data_pairs_k = 1
    vae.objective = ml_collections.ConfigDict({"name": "ada_gvae", "beta": 1.0})
    assert build(vae).images_per_step == 2 * vae.batch_size


def gan_population_configs():
    """InfoWGAN-GP's smoke config (batch 8) on dSprites, seeds 0 and 3."""
    configs = []
    for seed in (0, 3):
        c = gan_config("info_wgan", "dataset=dsprites_procedural", "smoke")
        c.seed = seed
        configs.append(c)
    return configs


@pytest.fixture(scope="module")
def gan_population():
    """(population, its state after 2 steps) of `gan_population_configs` on one device."""
    population = Population.create(gan_population_configs(), strategy="vmap")
    pop = population.init_state()
    for step in range(2):
        pop, _ = population.step_fn(pop, population.batch_fn(step))
    return population, pop


def test_a_gan_population_reads_and_trains_as_each_member_alone(gan_population):
    # A GAN reads 5 critic batches a step: the population renders [M, 5, B, ...], member m's
    # slice exactly what its single run's `batch_fn` reads, and its vmapped step of 5 critic
    # updates and 1 generator update ends where the member's own run does.
    population, pop = gan_population
    configs = gan_population_configs()
    batches = population.batch_fn(2)
    assert batches["image"].shape == (2, 5, configs[0].batch_size, 64, 64, 1)
    alone = [build(c) for c in configs]
    for m, run in enumerate(alone):
        for key in ("image", "factors"):
            np.testing.assert_array_equal(batches[key][m], run.batch_fn(2)[key])
    assert not np.array_equal(batches["image"][0], batches["image"][1])

    states = [run.init_state() for run in alone]
    initial = jax.tree.map(np.asarray, states[0].params)  # the step donates its state
    for step in range(2):
        states = [
            run.step_fn(state, run.batch_fn(step))[0]
            for run, state in zip(alone, states, strict=True)
        ]
    # 10 Adam updates of lr 2e-4 move weights by up to ~2e-3. Vmapped and single-model gradient
    # penalties round differently, and Adam turns a near-zero gradient's rounding into a step of
    # ±lr, so a few weights differ by up to 2·lr (measured: 5 of 1,024 by 5e-5 to 1.6e-4); a
    # member given another batch or seed would differ in nearly every weight.
    moved = max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(jax.tree.leaves(states[0].params), jax.tree.leaves(initial), strict=True)
    )
    assert moved > 1e-3
    for m, state in enumerate(states):
        got = population.member(pop, m)
        for a, b in zip(jax.tree.leaves(got.params), jax.tree.leaves(state.params), strict=True):
            difference = np.abs(np.asarray(a) - np.asarray(b))
            assert np.max(difference) <= 4e-4
            assert np.mean(difference <= 1e-5) >= 0.97, np.mean(difference <= 1e-5)


MESH_SCRIPT = textwrap.dedent("""
    import json, sys
    import jax, numpy as np
    from disentax.train import parallel
    from disentax.train.population import Population

    sys.path.insert(0, sys.argv[1])
    from test_gan_training import gan_population_configs

    population = Population.create(gan_population_configs(), "vmap", parallel.population_mesh(2))
    pop = population.init_state()
    for step in range(2):
        batches = population.batch_fn(step)
        pop, _ = population.step_fn(pop, batches)
    np.savez(sys.argv[2], *[np.asarray(x) for x in jax.tree.leaves(pop.members.params)])
    shards = {s.data.shape[:3] for s in batches["image"].addressable_shards}
    print(json.dumps({"mesh": dict(population.mesh.shape), "batch_shard": sorted(shards)}))
""")


def test_a_gan_population_on_a_pop_by_data_mesh_trains_as_on_one_device(
    gan_population, on_devices, tmp_path
):
    """A GAN reads [M, 5, B, ...] a step: on 2 × 2 simulated devices each device holds one
    member's 5 critic batches, half of each, and 2 steps (10 Adam updates of lr 2e-4) end where
    the one-device population ends. Only the batch means' summation order differs (measured:
    every weight within 1.9e-7); Adam can turn such rounding of a near-zero gradient into a step
    of ±lr, so the bound on the largest difference is the members' 2·lr above, and ≥ 99.9 % are
    within 1e-5."""
    population, pop = gan_population
    batch = population.run.config.batch_size
    one = {s.data.shape[:3] for s in population.batch_fn(1)["image"].addressable_shards}
    assert dict(population.mesh.shape) == {"pop": 1, "data": 1} and one == {(2, 5, batch)}
    here = str(pathlib.Path(__file__).parent)
    split, _ = on_devices(MESH_SCRIPT, 4, here, str(tmp_path / "mesh.npz"))
    assert split["mesh"] == {"pop": 2, "data": 2}
    assert split["batch_shard"] == [[1, 5, batch // 2]]
    with np.load(tmp_path / "mesh.npz") as stored:
        leaves = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    reference = jax.tree.leaves(pop.members.params)
    diff = [np.abs(a - np.asarray(b)) for a, b in zip(leaves, reference, strict=True)]
    assert max(float(np.max(d)) for d in diff) <= 4e-4
    assert np.mean(np.concatenate([(d <= 1e-5).ravel() for d in diff])) >= 0.999
