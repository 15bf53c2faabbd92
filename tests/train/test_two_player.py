"""Two-player training (FactorVAE): one jitted step updates both players; resume is bitwise."""

import functools
import shutil

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from disentax import config as config_lib
from disentax.errors import UserError
from disentax.models import DISCRIMINATORS, MODELS, WithDiscriminator
from disentax.objectives import MultiPlayer, factor_vae, factor_vae_losses
from disentax.train import TrainState, build, train
from disentax.train.checkpoint import Checkpointer
from disentax.train.loop import CHECKPOINT_DIR
from disentax.train.step import multi_player_step


def factor_config(**overrides):
    config = config_lib.load_config("factor_vae:tiny")
    config_lib.apply_overrides(config, [f"{k}={v}" for k, v in overrides.items()])
    return config


@pytest.fixture(scope="module")
def setup():
    """(loss_fn, jitted FactorVAE step, SGD state, batch) of a tiny model pair."""
    model = WithDiscriminator(
        model=MODELS.get("tiny_fc_vae")(num_latents=3),
        discriminator=DISCRIMINATORS.get("tiny_fc_discriminator")(),
    )
    x = (jax.random.uniform(jax.random.PRNGKey(1), (8, 64, 64, 1)) > 0.8).astype(jnp.float32)
    params = jax.jit(model.init)(jax.random.PRNGKey(0), x)["params"]
    loss_fn = functools.partial(factor_vae_losses, model=model, gamma=10.0)
    step = jax.jit(functools.partial(multi_player_step, loss_fn=loss_fn, objective=factor_vae))
    txs = {"model": optax.sgd(1e-3), "discriminator": optax.sgd(1e-2)}
    return loss_fn, step, TrainState.create(params, txs, jax.random.PRNGKey(3)), {"image": x}


def test_one_step_moves_each_player_down_its_own_gradient(setup):
    """θ_model ← θ_model − η_m ∇_model L_VAE and θ_D ← θ_D − η_D ∇_D L_D, both gradients at the
    old params (L_D's path into the encoder and L_VAE's into D are not used)."""
    loss_fn, step, state, batch = setup
    params = state.params
    new, metrics = step(state, batch)
    rng = jax.random.fold_in(jax.random.PRNGKey(3), 0)

    @jax.jit
    def grads(params):
        def own_loss(theta, player):
            return loss_fn({**params, player: theta}, batch, rng, step=0)[0][player]

        return {p: jax.grad(own_loss)(params[p], p) for p in ("model", "discriminator")}

    g = grads(params)
    for player, lr in (("model", 1e-3), ("discriminator", 1e-2)):
        want = jax.tree.map(lambda p, g, lr=lr: p - lr * g, params[player], g[player])
        got, old = jax.tree.leaves(new.params[player]), jax.tree.leaves(params[player])
        for a, b in zip(got, jax.tree.leaves(want), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
        assert any(not np.array_equal(a, b) for a, b in zip(got, old, strict=True))
        assert float(metrics[f"grad_norm/{player}"]) > 0
    assert int(new.step) == 1
    assert {"loss", "loss/tc", "loss/discriminator", "loss/kl"} <= set(metrics)


def test_non_finite_step_leaves_both_players_unchanged(setup):
    _, step, state, batch = setup
    good, _ = step(state, batch)
    after, metrics = step(good, {"image": batch["image"].at[0, 0, 0, 0].set(jnp.nan)})
    assert np.isnan(metrics["loss"]) and int(after.step) == 1
    for got, want in zip(jax.tree.leaves(after), jax.tree.leaves(good), strict=True):
        np.testing.assert_array_equal(got, want)


def test_sequential_schedule_reads_its_batches_in_order():
    """WGAN-GP-shaped schedule: two updates of player a (batches 0 and 1), then b (batch 1),
    each from the params the previous update left: closed form for SGD on quadratics."""

    def loss_fn(params, batch, rng, *, step):
        a, b = params["a"], params["b"]
        la, lb = jnp.sum((a - batch["x"]) ** 2), jnp.sum((b - a) ** 2)
        return {"a": la, "b": lb}, {"loss": la + lb}

    objective = MultiPlayer(
        loss_fn=loss_fn,
        schedule=(("a",), ("a",), ("b",)),
        batches_per_step=2,
        batch_index=(0, 1, 1),
    )
    assert objective.players == ("a", "b")
    params = {"a": jnp.array(1.0), "b": jnp.array(-2.0)}
    state = TrainState.create(
        params, {"a": optax.sgd(0.1), "b": optax.sgd(0.25)}, jax.random.PRNGKey(0)
    )
    batch = {"x": jnp.array([3.0, 5.0])}
    step = jax.jit(functools.partial(multi_player_step, loss_fn=loss_fn, objective=objective))
    new, _ = step(state, batch)
    a1 = 1.0 - 0.1 * 2 * (1.0 - 3.0)
    a2 = a1 - 0.1 * 2 * (a1 - 5.0)
    b1 = -2.0 - 0.25 * 2 * (-2.0 - a2)
    np.testing.assert_allclose([new.params["a"], new.params["b"]], [a2, b1], rtol=1e-6)
    with pytest.raises(ValueError, match="batch_index"):
        MultiPlayer(loss_fn=loss_fn, schedule=(("a",),), batches_per_step=2, batch_index=(2,))


def test_discriminator_optimizer_is_dlib_adam():
    run = build(factor_config())
    assert set(run.tx) == {"model", "discriminator"}
    grads = [{"w": jnp.array([0.3, -1.0])}, {"w": jnp.array([-0.2, 0.5])}]
    for player, (b1, b2) in (("discriminator", (0.5, 0.9)), ("model", (0.9, 0.999))):
        reference = optax.adam(1e-4, b1=b1, b2=b2, eps=1e-8)
        ours, s, r = run.tx[player], None, None
        s, r = ours.init(grads[0]), reference.init(grads[0])
        for g in grads:  # two steps: the second one depends on β1 and β2
            got, s = ours.update(g, s)
            want, r = reference.update(g, r)
        np.testing.assert_allclose(got["w"], want["w"], rtol=1e-6)


def test_unknown_or_missing_discriminator_is_a_user_error():
    with pytest.raises(UserError, match="unknown discriminator 'nope'; known: dlib_fc_disc"):
        build(factor_config(discriminator="nope"))
    config = factor_config()
    del config["discriminator"]
    with pytest.raises(UserError, match="needs config field 'discriminator'"):
        build(config)
    config = factor_config()
    config.discriminator_optimizer = ml_collections.ConfigDict({"learning_rate": 1e-4})
    with pytest.raises(
        UserError, match="'discriminator_optimizer' with the fields .*missing b1, b2"
    ):
        build(config)


class Interrupt(Exception):
    pass


def interrupt_at(step):
    def hook(done):
        if done == step:  # after the step and its checkpoint save
            raise Interrupt

    return hook


def restore(target, workdir):
    checkpointer = Checkpointer(workdir / CHECKPOINT_DIR, max_to_keep=3)
    try:
        return checkpointer.restore_latest(target)
    finally:
        checkpointer.close()


def test_factor_vae_resumes_bitwise_through_train(tmp_path):
    """8 uninterrupted steps (then evaluated) == the same run stopped after its step-4
    checkpoint and resumed in-process to step 8, bit for bit, both players and optimizers."""
    config = factor_config(num_steps=8, **{"eval.metrics": "mig", "eval.representations": "mean"})
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    metrics = train(config, straight, progress=False)
    assert metrics["step"] == 8
    assert {"train/loss/discriminator", "eval/loss/tc", "eval/mig"} <= set(metrics)
    shutil.copytree(straight, resumed)
    shutil.rmtree(resumed / CHECKPOINT_DIR / "8")  # as if stopped anywhere in steps 5..8
    with pytest.raises(Interrupt):  # stop again before the evaluation; step 8 is saved
        train(config, resumed, hooks=[interrupt_at(8)], progress=False)
    target = build(config).init_state()
    want, got = restore(target, straight), restore(target, resumed)
    assert int(got.step) == 8 and set(got.opt_state) == {"model", "discriminator"}
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        np.testing.assert_array_equal(a, b)
