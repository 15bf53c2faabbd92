"""The sub-pixel transposed convolution equals `nn.ConvTranspose` in values, gradients, params."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.models import MODELS
from disentax.models.layers import SubpixelConvTranspose, depth_to_space

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
    params = reference(features).init(jax.random.PRNGKey(1), x)
    params = jax.tree.map(lambda p: p + jax.random.normal(jax.random.PRNGKey(2), p.shape), params)
    ours = SubpixelConvTranspose(features)
    ref = reference(features)
    y, y_ref = ours.apply(params, x), ref.apply(params, x)
    assert y.shape == (shape[0], 2 * shape[1], 2 * shape[2], features)
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5 * float(jnp.abs(y_ref).max()))

    def loss(module):
        return lambda p, x: jnp.sum(jnp.sin(module.apply(p, x)))

    g = jax.grad(loss(ours), argnums=(0, 1))(params, x)
    g_ref = jax.grad(loss(ref), argnums=(0, 1))(params, x)
    for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(g_ref), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * float(jnp.abs(b).max()))


def test_depth_to_space_places_phases():
    x = jnp.arange(2 * 2 * 4, dtype=jnp.float32).reshape(1, 2, 1, 8)  # H=2, W=1, 2x2 phases, F=2
    y = depth_to_space(x)
    assert y.shape == (1, 4, 2, 2)
    # Channel (a, b, f) of input pixel (i, 0) lands on output pixel (2i + a, b).
    for i in range(2):
        for a in range(2):
            for b in range(2):
                np.testing.assert_array_equal(y[0, 2 * i + a, b], x[0, i, 0, (a * 2 + b) * 2 :][:2])


def test_checkpoints_are_interchangeable_between_formulations():
    x = (jax.random.uniform(jax.random.PRNGKey(1), (2, 64, 64, 1)) > 0.9).astype(jnp.float32)
    lax_model = MODELS.get("dlib_conv_vae")(transposed_conv="lax")
    sub_model = MODELS.get("dlib_conv_vae")(transposed_conv="subpixel")
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
