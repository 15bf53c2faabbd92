"""The sub-pixel transposed convolution equals `nn.ConvTranspose`, and the strided convolution
with a sub-pixel input gradient equals `nn.Conv`, in values, gradients and params."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.models import MODELS
from disentax.models.layers import (
    Stride2Conv,
    SubpixelConvTranspose,
    depth_to_space,
    space_to_depth,
)

glorot = nn.initializers.glorot_uniform()


def reference(features):
    return nn.ConvTranspose(
        features, (4, 4), (2, 2), padding="SAME", transpose_kernel=True, kernel_init=glorot
    )


@pytest.mark.parametrize(
    "shape,features", [((2, 7, 5, 3), 6), ((1, 4, 4, 5), 1), ((3, 8, 8, 17), 9)]
)
@jax.default_matmul_precision("highest")  # GPUs default to TF32 for float32 convolutions
def test_values_and_gradients_equal_transposed_conv(shape, features):
    x = jax.random.normal(jax.random.PRNGKey(0), shape)
    y = assert_values_and_gradients_equal(SubpixelConvTranspose(features), reference(features), x)
    assert y.shape == (shape[0], 2 * shape[1], 2 * shape[2], features)


@pytest.mark.parametrize(
    "shape,kernel,features", [((2, 8, 6, 3), 4, 5), ((1, 4, 4, 5), 2, 1), ((3, 12, 12, 7), 6, 9)]
)
@jax.default_matmul_precision("highest")
def test_values_and_gradients_equal_strided_conv(shape, kernel, features):
    x = jax.random.normal(jax.random.PRNGKey(0), shape)
    ref = nn.Conv(features, (kernel, kernel), (2, 2), padding="SAME")
    y = assert_values_and_gradients_equal(Stride2Conv(features, kernel), ref, x)
    assert y.shape == (shape[0], shape[1] // 2, shape[2] // 2, features)


def test_strided_conv_refuses_odd_sizes_in_one_line():
    x = jnp.zeros((1, 7, 8, 2))
    with pytest.raises(
        ValueError, match="even kernel and even input sizes, got kernel 4 and input 7x8"
    ):
        Stride2Conv(3, 4).init(jax.random.PRNGKey(0), x)


def assert_values_and_gradients_equal(ours, ref, x):
    """`ours` and `ref` agree in outputs and in gradients (params and input) on random params."""
    params = ref.init(jax.random.PRNGKey(1), x)
    assert jax.tree.structure(params) == jax.tree.structure(ours.init(jax.random.PRNGKey(1), x))
    params = jax.tree.map(lambda p: p + jax.random.normal(jax.random.PRNGKey(2), p.shape), params)
    y, y_ref = ours.apply(params, x), ref.apply(params, x)
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5 * float(jnp.abs(y_ref).max()))

    def loss(module):
        return lambda p, x: jnp.sum(jnp.sin(module.apply(p, x)))

    g = jax.grad(loss(ours), argnums=(0, 1))(params, x)
    g_ref = jax.grad(loss(ref), argnums=(0, 1))(params, x)
    for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(g_ref), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * float(jnp.abs(b).max()))
    return y


def test_depth_to_space_places_phases():
    x = jnp.arange(2 * 2 * 4, dtype=jnp.float32).reshape(1, 2, 1, 8)  # H=2, W=1, 2x2 phases, F=2
    y = depth_to_space(x)
    assert y.shape == (1, 4, 2, 2)
    # Channel (a, b, f) of input pixel (i, 0) lands on output pixel (2i + a, b).
    for i in range(2):
        for a in range(2):
            for b in range(2):
                np.testing.assert_array_equal(y[0, 2 * i + a, b], x[0, i, 0, (a * 2 + b) * 2 :][:2])


def test_space_to_depth_inverts_depth_to_space():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 3, 5, 8))
    np.testing.assert_array_equal(space_to_depth(depth_to_space(x)), x)


def test_checkpoints_are_interchangeable_between_formulations():
    x = (jax.random.uniform(jax.random.PRNGKey(1), (2, 64, 64, 1)) > 0.9).astype(jnp.float32)
    lax_model = MODELS.get("dlib_conv_vae")(transposed_conv="lax", strided_conv="lax")
    sub_model = MODELS.get("dlib_conv_vae")(transposed_conv="subpixel", strided_conv="subpixel")
    params = lax_model.init(jax.random.PRNGKey(0), x)
    assert jax.tree.structure(params) == jax.tree.structure(
        sub_model.init(jax.random.PRNGKey(0), x)
    )
    trained = jax.tree.map(
        lambda p: p + 0.05 * jax.random.normal(jax.random.PRNGKey(3), p.shape), params
    )
    a, _ = lax_model.apply(trained, x)
    b, _ = sub_model.apply(trained, x)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * float(jnp.abs(a).max()))
