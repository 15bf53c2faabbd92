"""QLAE-code architectures: parameter counts from the layer table, shapes, and a NumPy
transcription of the PyTorch (NCHW) encoder and style decoder on the same weights."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.errors import UserError
from disentax.models import MODELS
from disentax.models import qlae as q

# anchors-core.md §3.4: widths, kernels (strides follow: k3 s1, k4 s2), dense 256 x 2.
ENC_WIDTHS = [32, 32, 32, 64, 64, 64, 128, 128, 128, 256, 256, 256]
DEC_WIDTHS = [256, 256, 256, 128, 128, 128, 64, 64, 64, 32, 32, 32]
KERNELS = [3, 3, 4] * 4


def expected_count(channels, encoder_outputs, decoder_inputs, codebook):
    n = 0
    prev = channels
    for w, k in zip(ENC_WIDTHS, KERNELS, strict=True):  # bias-free conv + affine instance norm
        n += k * k * prev * w + 2 * w
        prev = w
    n += (4 * 4 * 256) * 256 + 256 + 256 * 256 + 256  # Dense 256 ReLU x 2 on the 256x4x4 map
    n += 256 * encoder_outputs + encoder_outputs  # linear head
    n += decoder_inputs * 256 + 256 + 256 * 256 + 256  # style MLP
    n += 256 * 4 * 4  # constant input map
    prev = 256
    for w, k in zip(DEC_WIDTHS, KERNELS, strict=True):  # bias-free ConvT + style Dense(256 -> 2w)
        n += k * k * prev * w + 256 * 2 * w + 2 * w
        prev = w
    return n + 3 * 3 * 32 * channels + codebook  # bias-free final 3x3 conv


def count(name, channels, num_latents):
    model = MODELS.get(name)(num_latents=num_latents, channels=channels, image_size=64)
    x = jax.ShapeDtypeStruct((1, 64, 64, channels), jnp.float32)
    shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0), x)["params"]
    return sum(int(np.prod(s.shape)) for s in jax.tree.leaves(shapes))


@pytest.mark.parametrize("channels", [1, 3])
def test_parameter_counts_follow_the_layer_table(channels):
    assert count("qlae", channels, 12) == expected_count(channels, 12, 12, 12 * 10)
    assert count("qlae_global", channels, 12) == expected_count(channels, 12, 12, 10)
    assert count("qlae_vq_vae", channels, 12) == expected_count(channels, 768, 768, 512 * 64)
    assert count("qlae_vae", channels, 10) == expected_count(channels, 20, 10, 0)
    assert count("qlae_bio_ae", channels, 10) == expected_count(channels, 10, 10, 0)


def test_small_variant_parameter_count():
    # image_small / style_image_small: k4 s2 blocks 64-128-256-512 / 512-256-128-64, dense 512.
    enc = 16 * (1 * 64 + 64 * 128 + 128 * 256 + 256 * 512) + 2 * (64 + 128 + 256 + 512)
    enc += 4 * 4 * 512 * 512 + 512 + 512 * 10 + 10
    dec = 10 * 512 + 512 + 512 * 4 * 4
    dec += 16 * (512 * 512 + 512 * 256 + 256 * 128 + 128 * 64)
    dec += 512 * 2 * (512 + 256 + 128 + 64) + 2 * (512 + 256 + 128 + 64) + 9 * 64
    assert count("qlae_small", 1, 10) == enc + dec + 100


@pytest.mark.parametrize("name", sorted(q.VARIANTS))
def test_every_variant_is_registered_with_the_builder_keywords(name):
    model = MODELS.get(name)(num_latents=3, channels=3, image_size=64)
    assert isinstance(model, q.LatentAutoencoder)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("name", [n for n in q.VARIANTS if n.endswith("_tiny")])
def test_tiny_shapes(name, channels):
    model = MODELS.get(name)(num_latents=5, channels=channels, image_size=64)
    x = jax.ShapeDtypeStruct((2, 64, 64, channels), jnp.float32)
    rngs = {"params": jax.random.PRNGKey(0), "latent": jax.random.PRNGKey(1)}
    params = jax.eval_shape(model.init, rngs, x)
    logits, aux = jax.eval_shape(
        lambda p, x: model.apply(p, x, train=True, rngs={"latent": jax.random.PRNGKey(1)}),
        params,
        x,
    )
    assert logits.shape == (2, 64, 64, channels) and aux["z"].shape[0] == 2
    if "z_indices" in aux:
        assert aux["z_indices"].shape == (2, 5) and aux["z_indices"].dtype == jnp.int32
    if name.startswith("qlae_vae"):
        assert aux["mu"].shape == aux["logvar"].shape == aux["z"].shape == (2, 5)


def test_image_size_must_divide_by_the_total_stride():
    model = MODELS.get("qlae_tiny")(num_latents=2, channels=1, image_size=60)
    with pytest.raises(UserError, match="multiple"):
        jax.eval_shape(model.init, jax.random.PRNGKey(0), jnp.zeros((1, 60, 60, 1)))


def _random_params(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda s: rng.normal(0, 0.3, s.shape).astype(np.float32), shapes)


def conv2d(x, w, stride=1, pad=1):
    """PyTorch's `F.conv2d` in NumPy: x `[B, C, H, W]`, w `[F, C, k, k]` -> `[B, F, H', W']`."""
    k = w.shape[-1]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (xp.shape[2] - k) // stride + 1, (xp.shape[3] - k) // stride + 1
    patches = np.stack(
        [
            xp[:, :, i : i + stride * ho : stride, j : j + stride * wo : stride]
            for i in range(k)
            for j in range(k)
        ],
        axis=-1,
    )
    return np.einsum("bchwq,fcq->bfhw", patches, w.reshape(*w.shape[:2], k * k))


def conv_transpose2d(x, w, stride, pad=1):
    """PyTorch's `F.conv_transpose2d`: w `[C_in, F_out, k, k]`; output (H − 1)·s − 2·pad + k.
    The input dilated by the stride, convolved with the flipped, transposed kernel."""
    b, c, h, wd = x.shape
    dilated = np.zeros((b, c, (h - 1) * stride + 1, (wd - 1) * stride + 1), x.dtype)
    dilated[:, :, ::stride, ::stride] = x
    k = w.shape[-1]
    return conv2d(dilated, w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1], 1, k - 1 - pad)


def instance_norm(x, scale=None, bias=None, eps=1e-6):
    """Per example and channel over H, W (biased variance); optional per-channel affine."""
    mean = x.mean(axis=(2, 3), keepdims=True)
    y = (x - mean) / np.sqrt(x.var(axis=(2, 3), keepdims=True) + eps)
    return y if scale is None else y * scale[None, :, None, None] + bias[None, :, None, None]


def leaky_relu(x, slope=0.2):
    return np.where(x >= 0, x, slope * x)


def relu(x):
    return np.maximum(x, 0)


def _n(a):
    return np.asarray(a, np.float64)


def numpy_encoder(p, x_nhwc, stack):
    x = _n(x_nhwc).transpose(0, 3, 1, 2)
    for i, s in enumerate(stack.strides):
        x = conv2d(x, _n(p[f"conv{i}"]["kernel"]).transpose(3, 2, 0, 1), stride=s)
        x = instance_norm(x, _n(p[f"norm{i}"]["scale"]), _n(p[f"norm{i}"]["bias"]))
        x = leaky_relu(x)
    x = x.transpose(0, 2, 3, 1).reshape(x.shape[0], -1)  # HWC order, as the NHWC model
    for i in range(len(stack.hidden)):
        x = relu(x @ _n(p[f"dense{i}"]["kernel"]) + _n(p[f"dense{i}"]["bias"]))
    return x @ _n(p["head"]["kernel"]) + _n(p["head"]["bias"])


def numpy_decoder(p, z, stack):
    w = _n(z)
    for i in range(len(stack.hidden)):
        w = relu(w @ _n(p[f"dense{i}"]["kernel"]) + _n(p[f"dense{i}"]["bias"]))
    input_map = _n(p["input_map"]).transpose(2, 0, 1)
    x = np.broadcast_to(input_map[None], (w.shape[0], *input_map.shape))
    for i, (f, s) in enumerate(zip(stack.features, stack.strides, strict=True)):
        kernel = _n(p[f"conv{i}"]["kernel"]).transpose(3, 2, 0, 1)  # [k,k,F,C] -> [C,F,k,k]
        x = instance_norm(leaky_relu(conv_transpose2d(x, kernel, stride=s)))
        style = relu(w @ _n(p[f"style{i}"]["kernel"]) + _n(p[f"style{i}"]["bias"]))
        x = x * style[:, :f, None, None] + style[:, f:, None, None]
    x = conv2d(x, _n(p["out"]["kernel"]).transpose(3, 2, 0, 1))
    return x.transpose(0, 2, 3, 1)


@pytest.mark.parametrize("method", ["subpixel", "lax"])
def test_encoder_and_decoder_match_a_numpy_transcription_of_the_pytorch_layers(method):
    x = np.random.default_rng(1).uniform(size=(2, 64, 64, 3)).astype(np.float32)
    z = np.random.default_rng(2).normal(size=(2, 5)).astype(np.float32)
    encoder = q.ImageEncoder(5, q.ENCODER_TINY)
    decoder = q.StyleDecoder((64, 64, 3), q.DECODER_TINY, method)
    pe = _random_params(jax.eval_shape(encoder.init, jax.random.PRNGKey(0), x)["params"], 3)
    pd = _random_params(jax.eval_shape(decoder.init, jax.random.PRNGKey(0), z)["params"], 4)
    h, _ = jax.jit(encoder.apply)({"params": pe}, x)
    logits = jax.jit(decoder.apply)({"params": pd}, z)
    np.testing.assert_allclose(h, numpy_encoder(pe, x, q.ENCODER_TINY), rtol=1e-4, atol=1e-4)
    want = numpy_decoder(pd, z, q.DECODER_TINY)
    np.testing.assert_allclose(logits, want, rtol=1e-4, atol=1e-4)


def test_critic_returns_a_value_and_a_latent_head_per_example():
    critic = q.Critic(num_outputs=7, stack=q.ENCODER_TINY)
    x = jax.ShapeDtypeStruct((3, 64, 64, 3), jnp.float32)
    params = jax.eval_shape(critic.init, jax.random.PRNGKey(0), x)
    value, h = jax.eval_shape(critic.apply, params, x)
    assert value.shape == (3,) and h.shape == (3, 7)
    assert set(params["params"]) == {"encoder", "value"}
