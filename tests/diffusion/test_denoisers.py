"""The denoisers: shapes, a zero start, conditioning, jit and gradients, one-line errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.diffusion import denoisers
from disentax.errors import UserError

CASES = {
    "mlp": (denoisers.ResidualMLP.tiny(), (4, 2)),
    "mlp_class": (denoisers.ResidualMLP.tiny(num_classes=3), (4, 2)),
    "unet": (denoisers.UNet.tiny(), (2, 8, 8, 3)),
    "unet_class": (denoisers.UNet.tiny(condition="class", num_classes=3), (2, 8, 8, 3)),
    "unet_tokens": (denoisers.UNet.tiny(condition="tokens"), (2, 8, 8, 1)),
    "dit": (denoisers.DiT.tiny(), (2, 8, 8, 3)),
    "dit_class": (denoisers.DiT.tiny(num_classes=3), (2, 8, 8, 3)),
}


def _condition(name, batch):
    if name.endswith("class"):
        return (jnp.arange(batch) % 3,)
    if name.endswith("tokens"):
        return (jax.random.normal(jax.random.key(5), (batch, 3, 6)),)
    return ()


def _random_params(model, x, t, c):
    """Parameters of the model's shapes drawn N(0, 0.1²) everywhere (past the zero-initialised
    output layers), by numpy: no initialiser to compile."""
    shapes = jax.eval_shape(model.init, jax.random.key(1), x, t, *c)["params"]
    rng = np.random.RandomState(2)
    return jax.tree.map(lambda a: jnp.asarray(0.1 * rng.randn(*a.shape), a.dtype), shapes)


@pytest.mark.parametrize("name", ["mlp", "unet", "dit"])
def test_denoiser_maps_x_to_its_shape_starts_at_zero_and_learns(name):
    model, shape = CASES[name]
    x = jax.random.normal(jax.random.key(0), shape)
    t = jnp.arange(shape[0]) * 7
    params = jax.jit(model.init)(jax.random.key(1), x, t)["params"]
    np.testing.assert_array_equal(jax.jit(model.apply)({"params": params}, x, t), 0.0)

    @jax.jit
    def step(p):
        loss, grads = jax.value_and_grad(
            lambda p: jnp.mean((model.apply({"params": p}, x, t) - x) ** 2)
        )(p)
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(g)) for g in jax.tree.leaves(grads)]))
        return loss, finite, jax.tree.map(lambda p, g: p - 0.5 * g, p, grads)

    losses = []
    for _ in range(2):
        loss, finite, params = step(params)
        assert bool(finite)
        losses.append(float(loss))
    assert losses[1] < losses[0], losses


@pytest.mark.parametrize("name", CASES)
def test_denoiser_output_depends_on_step_and_condition(name):
    model, shape = CASES[name]
    x = jax.random.normal(jax.random.key(0), shape)
    t = jnp.arange(shape[0]) * 7
    c = _condition(name, shape[0])
    params = _random_params(model, x, t, c)
    apply = jax.jit(model.apply)
    out = apply({"params": params}, x, t, *c)
    assert out.shape == shape and bool(jnp.all(jnp.isfinite(out)))
    assert float(jnp.abs(out - apply({"params": params}, x, t + 100, *c)).max()) > 1e-4
    if c:
        other = jax.tree.map(lambda a: jnp.flip(a, 0) + (a.dtype != jnp.int32), c)
        assert float(jnp.abs(out - apply({"params": params}, x, t, *other)).max()) > 1e-4


def test_residual_mlp_parameter_count_in_closed_form():
    w, depth, e, d = 32, 2, 16, 2
    params = denoisers.ResidualMLP.tiny().init(
        jax.random.key(0), jnp.zeros((1, d)), jnp.zeros(1, jnp.int32)
    )
    embedding = 2 * (e * e + e)
    blocks = depth * (
        2 * w + (w * w + w) + (e * w + w) + (w * w + w)
    )  # LN, Dense, emb Dense, Dense
    expected = embedding + (d * w + w) + blocks + 2 * w + (w * d + d)
    assert denoisers.count_parameters(params) == expected


def test_sincos_positions_are_distinct_and_bounded():
    pos = denoisers.sincos_positions(4, 16)
    assert pos.shape == (16, 16) and np.abs(pos).max() <= 1.0
    distances = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    assert distances[~np.eye(16, dtype=bool)].min() > 0.1


def test_dit_without_blocks_keeps_each_patch_in_its_place():
    """With no transformer blocks, output patch P is a function of input patch P alone: a change
    of one input pixel changes exactly the output pixels of its 2×2 patch."""
    model = denoisers.DiT(patch=2, hidden=12, depth=0, num_heads=1)
    x = jax.random.normal(jax.random.key(0), (1, 6, 6, 3))
    t = jnp.zeros(1, jnp.int32)
    params = _random_params(model, x, t, ())
    apply = jax.jit(model.apply)
    changed = jnp.abs(apply({"params": params}, x.at[0, 3, 4, 1].add(1.0), t)
                      - apply({"params": params}, x, t)).max(-1)[0]  # fmt: skip
    expected = np.zeros((6, 6), bool)
    expected[2:4, 4:6] = True  # the patch of row 3, column 4
    np.testing.assert_array_equal(np.asarray(changed) > 1e-6, expected)


@pytest.mark.parametrize(
    ("model", "shape", "match"),
    [
        (denoisers.UNet.tiny(), (1, 7, 8, 3), "divisible by 2"),
        (denoisers.DiT.tiny(), (1, 6, 8, 3), "square images divisible by patch 2"),
        (denoisers.UNet.tiny(condition="class"), (1, 8, 8, 3), "needs num_classes"),
        (denoisers.UNet.tiny(condition="text"), (1, 8, 8, 3), "unknown condition 'text'"),
        (denoisers.ResidualMLP.tiny(num_classes=2), (1, 2), "call it with labels"),
    ],
)
def test_bad_shapes_and_conditions_are_one_line_errors(model, shape, match):
    with pytest.raises(UserError, match=match):
        model.init(jax.random.key(0), jnp.zeros(shape), jnp.zeros(1, jnp.int32))


def test_residual_mlp_activation_is_silu_by_default_and_leaky_relu_on_request():
    x, t = jax.random.normal(jax.random.key(3), (6, 2)), jnp.arange(6, dtype=jnp.int32)
    silu, leaky = denoisers.ResidualMLP.tiny(), denoisers.ResidualMLP.tiny(activation="leaky_relu")
    assert silu.activation == "silu"
    params = _random_params(silu, x, t, ())
    params["Dense_7"]["kernel"] = 0.1 + params["Dense_7"]["kernel"]  # past the zero output
    out_silu, out_leaky = (m.apply({"params": params}, x, t) for m in (silu, leaky))
    assert out_leaky.shape == out_silu.shape == x.shape
    assert float(jnp.max(jnp.abs(out_leaky - out_silu))) > 1e-3  # the same weights, another φ
    # φ enters only through the residual path and the output: with LeakyReLU swapped for the
    # identity-on-positives ReLU the two differ only where a pre-activation is negative
    relu = denoisers.ResidualMLP.tiny(activation="relu").apply({"params": params}, x, t)
    gap = float(jnp.max(jnp.abs(out_leaky - relu)))
    assert 0 < gap < float(jnp.max(jnp.abs(out_leaky - out_silu)))
    with pytest.raises(UserError, match="unknown activation 'tanh'; known: silu, leaky_relu"):
        denoisers.ResidualMLP.tiny(activation="tanh").init(jax.random.key(0), x, t)
