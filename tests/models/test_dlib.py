import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.models import MODELS, ConvEncoder, DeconvDecoder


def count(tree):
    return sum(x.size for x in jax.tree.leaves(tree))


def dense(i, o):
    return i * o + o


def conv(k, i, o):
    return k * k * i * o + o


# The TF1 originals' parameter counts, layer by layer (disentanglement_lib architectures.py).
ENCODER_PARAMS = (
    conv(4, 1, 32)
    + conv(4, 32, 32)
    + conv(2, 32, 64)
    + conv(2, 64, 64)
    + dense(1024, 256)
    + 2 * dense(256, 10)
)
DECODER_PARAMS = (
    dense(10, 256)
    + dense(256, 1024)
    + conv(4, 64, 64)
    + conv(4, 64, 32)
    + conv(4, 32, 32)
    + conv(4, 32, 1)
)


@pytest.fixture(scope="module")
def dlib_vae():
    model = MODELS.get("dlib_conv_vae")()
    params = model.init(jax.random.PRNGKey(0), jnp.zeros((2, 64, 64, 1)))["params"]
    return model, params


def test_parameter_counts_equal_tf1_originals(dlib_vae):
    _, params = dlib_vae
    assert count(params["encoder"]) == ENCODER_PARAMS == 309_204
    assert count(params["decoder"]) == DECODER_PARAMS == 381_313
    assert params["encoder"]["e3"]["kernel"].shape == (2, 2, 32, 64)  # e3/e4 use kernel 2


def test_init_is_glorot_uniform_with_zero_bias(dlib_vae):
    _, params = dlib_vae
    kernel = params["encoder"]["e5"]["kernel"]
    limit = np.sqrt(6.0 / (1024 + 256))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.95 * limit
    assert np.abs(kernel).mean() == pytest.approx(limit / 2, rel=0.05)
    assert all(
        np.all(b == 0)
        for b in jax.tree.leaves(
            jax.tree_util.tree_map_with_path(lambda p, x: x if p[-1].key == "bias" else 0, params)
        )
    )


@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_and_aux_contract(channels):
    model = MODELS.get("tiny_conv_vae")(num_latents=4, channels=channels)
    x = jnp.zeros((3, 64, 64, channels))
    params = model.init(jax.random.PRNGKey(0), x)["params"]
    logits, aux = model.apply({"params": params}, x)
    assert logits.shape == x.shape
    assert set(aux) == {"z", "mu", "logvar"} and all(v.shape == (3, 4) for v in aux.values())
    np.testing.assert_array_equal(aux["z"], aux["mu"])  # eval: mean representation
    _, sampled = model.apply(
        {"params": params}, x, train=True, rngs={"latent": jax.random.PRNGKey(1)}
    )
    np.testing.assert_array_equal(sampled["mu"], aux["mu"])
    eps = (sampled["z"] - sampled["mu"]) / jnp.exp(0.5 * sampled["logvar"])
    assert 0.3 < float(jnp.std(eps)) < 2.0


def test_encoder_feature_maps_follow_tf_same_padding():
    enc = ConvEncoder(num_latents=10)
    shapes = jax.eval_shape(
        lambda: enc.init_with_output(
            jax.random.PRNGKey(0), jnp.zeros((1, 64, 64, 1)), capture_intermediates=True
        )[1]
    )
    inter = shapes["intermediates"]
    assert [inter[f"e{i}"]["__call__"][0].shape[1:] for i in range(1, 5)] == [
        (32, 32, 32),
        (16, 16, 32),
        (8, 8, 64),
        (4, 4, 64),
    ]


def test_transposed_conv_is_the_gradient_of_same_conv():
    """TF's conv2d_transpose(x, K) is d/du <conv2d(u, K, stride 2, SAME), x>; ours must be too."""
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(2, 5, 5, 3)), jnp.float32)
    kernel = jnp.asarray(rng.normal(size=(4, 4, 6, 3)), jnp.float32)  # [h, w, out, in] as TF
    layer = nn.ConvTranspose(6, (4, 4), (2, 2), padding="SAME", transpose_kernel=True)
    ours = layer.apply({"params": {"kernel": kernel, "bias": jnp.zeros(6)}}, x)

    def forward(u):
        return jax.lax.conv_general_dilated(
            u, kernel, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )

    _, vjp = jax.vjp(forward, jnp.zeros((2, 10, 10, 6)))
    np.testing.assert_allclose(ours, vjp(x)[0], rtol=1e-5, atol=1e-5)


def test_decoder_output_is_logits_of_requested_shape():
    dec = DeconvDecoder(output_shape=(64, 64, 3))
    out, _ = dec.init_with_output(jax.random.PRNGKey(0), jnp.ones((2, 10)))
    assert out.shape == (2, 64, 64, 3) and float(out.min()) < 0 < float(out.max())
