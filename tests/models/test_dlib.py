import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.models import DISCRIMINATORS, FCVAE, MODELS, ConvEncoder, DeconvDecoder


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


# disentanglement_lib's fully connected architectures, layer by layer (architectures.py).
FC_ENCODER_PARAMS = dense(64 * 64, 1200) + dense(1200, 1200) + 2 * dense(1200, 10)
FC_DECODER_PARAMS = dense(10, 1200) + 2 * dense(1200, 1200) + dense(1200, 64 * 64)
FC_DISCRIMINATOR_PARAMS = dense(10, 1000) + 5 * dense(1000, 1000) + dense(1000, 2)


def test_fc_vae_parameter_counts_equal_tf1_originals():
    model = MODELS.get("dlib_fc_vae")()
    shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0), jnp.zeros((2, 64, 64, 1)))
    params = shapes["params"]
    assert count(params["encoder"]) == FC_ENCODER_PARAMS == 6_381_620
    assert count(params["decoder"]) == FC_DECODER_PARAMS == 7_814_896
    assert params["decoder"]["d4"]["kernel"].shape == (1200, 4096)


@pytest.fixture(scope="module")
def dlib_discriminator():
    disc = DISCRIMINATORS.get("dlib_fc_discriminator")()
    params = disc.init(jax.random.PRNGKey(0), jnp.zeros((2, 10)))["params"]
    return disc, params


def test_fc_discriminator_matches_tf1_layers(dlib_discriminator):
    disc, params = dlib_discriminator
    assert count(params) == FC_DISCRIMINATOR_PARAMS == 5_018_002
    assert sorted(params) == ["d1", "d2", "d3", "d4", "d5", "d6", "logits"]
    kernel = params["d3"]["kernel"]
    limit = np.sqrt(6.0 / (1000 + 1000))  # glorot uniform
    assert limit * 0.95 < np.abs(kernel).max() <= limit
    assert all(np.all(params[k]["bias"] == 0) for k in params)
    # Forward pass against a NumPy transcription: 6 × (Dense, leaky ReLU 0.2), Dense 2.
    z = np.asarray(jax.random.normal(jax.random.PRNGKey(1), (5, 10)))
    h = z
    for k in ["d1", "d2", "d3", "d4", "d5", "d6"]:
        a = h @ np.asarray(params[k]["kernel"]) + np.asarray(params[k]["bias"])
        h = np.where(a > 0, a, 0.2 * a)
    want = h @ np.asarray(params["logits"]["kernel"]) + np.asarray(params["logits"]["bias"])
    got = disc.apply({"params": params}, jnp.asarray(z))
    assert got.shape == (5, 2)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_fc_vae_contract_and_activations():
    model = FCVAE(num_latents=3, channels=3, encoder_features=(8, 8), decoder_features=(8, 8, 8))
    x = jax.random.uniform(jax.random.PRNGKey(0), (2, 64, 64, 3))
    params = model.init(jax.random.PRNGKey(1), x)["params"]
    logits, aux = model.apply({"params": params}, x)
    assert logits.shape == x.shape
    assert set(aux) == {"z", "mu", "logvar"} and all(v.shape == (2, 3) for v in aux.values())
    np.testing.assert_array_equal(aux["z"], aux["mu"])
    # NumPy transcription: encoder ReLU ×2 on the flattened image; decoder tanh ×3.
    p = jax.tree.map(np.asarray, params)
    h = np.asarray(x).reshape(2, -1)
    for k in ("e1", "e2"):
        h = np.maximum(h @ p["encoder"][k]["kernel"] + p["encoder"][k]["bias"], 0)
    mu = h @ p["encoder"]["means"]["kernel"] + p["encoder"]["means"]["bias"]
    h = mu
    for k in ("d1", "d2", "d3"):
        h = np.tanh(h @ p["decoder"][k]["kernel"] + p["decoder"][k]["bias"])
    want = (h @ p["decoder"]["d4"]["kernel"] + p["decoder"]["d4"]["bias"]).reshape(x.shape)
    np.testing.assert_allclose(aux["mu"], mu, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(logits, want, rtol=1e-5, atol=1e-5)


def test_small_fc_vae_is_the_fc_vae_with_256_unit_layers():
    model = MODELS.get("small_fc_vae")(num_latents=10)
    x = jnp.zeros((2, 64, 64, 1))
    shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0), x)["params"]
    assert count(shapes["encoder"]) == dense(64 * 64, 256) + dense(256, 256) + 2 * dense(256, 10)
    assert count(shapes["decoder"]) == dense(10, 256) + 2 * dense(256, 256) + dense(256, 64 * 64)
    logits, aux = jax.eval_shape(lambda p: model.apply({"params": p}, x), shapes)
    assert logits.shape == x.shape
    assert {k: v.shape for k, v in aux.items()} == {k: (2, 10) for k in ("z", "mu", "logvar")}
