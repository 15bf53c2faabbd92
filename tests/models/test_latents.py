"""Latent layers: nearest-value indices, straight-through gradients, codebook-only-through-q."""

import jax
import jax.numpy as jnp
import numpy as np

from disentax.models.latents import (
    BioLatent,
    DiagonalGaussian,
    GlobalQuantizer,
    ScalarQuantizer,
    VectorQuantizer,
)
from disentax.objectives.quantized import commitment_loss, quantization_loss

H = np.array(
    [[-0.61, 0.05, 0.27, 0.9], [0.11, -0.22, -0.07, 0.49], [0.5, 0.38, -0.33, -0.01]], np.float32
)


def test_scalar_quantizer_init_and_nearest_values():
    layer = ScalarQuantizer(num_values=5)
    params = layer.init(jax.random.PRNGKey(0), H)["params"]
    np.testing.assert_allclose(params["codebook"], np.tile(np.linspace(-0.5, 0.5, 5), (4, 1)))
    codebook = np.asarray(params["codebook"]) + np.linspace(0, 0.03, 4)[:, None]  # per latent
    z, aux = layer.apply({"params": {"codebook": codebook}}, H)
    want = np.argmin(np.abs(H[:, :, None] - codebook[None]), axis=-1)
    np.testing.assert_array_equal(aux["z_indices"], want)
    assert aux["z_indices"].dtype == jnp.int32
    quantized = np.take_along_axis(codebook[None].repeat(3, 0), want[..., None], -1)[..., 0]
    np.testing.assert_allclose(aux["z_quantized"], quantized, atol=1e-7)
    np.testing.assert_allclose(z, quantized, atol=1e-6)
    np.testing.assert_allclose(aux["z_continuous"], H, atol=1e-7)


def _grads(layer, params, weights):
    """Gradients of Σ weights·ẑ with respect to (h, params)."""

    def f(h, p):
        return jnp.sum(weights * layer.apply({"params": p}, h)[0])

    return jax.grad(f, argnums=(0, 1))(jnp.asarray(H, jnp.float32), params)


def test_straight_through_gradient_is_identity_and_skips_the_codebook():
    weights = np.arange(12.0).reshape(3, 4) - 5.0
    for layer in (ScalarQuantizer(num_values=7), GlobalQuantizer(num_values=7)):
        params = layer.init(jax.random.PRNGKey(0), H)["params"]
        grad_h, grad_p = _grads(layer, params, weights)
        np.testing.assert_allclose(grad_h, weights)
        np.testing.assert_array_equal(grad_p["codebook"], 0.0)


def test_codebook_moves_only_through_the_quantization_loss():
    layer = ScalarQuantizer(num_values=6)
    params = layer.init(jax.random.PRNGKey(0), H)["params"]

    def term(loss_fn):
        def f(p):
            _, aux = layer.apply({"params": p}, jnp.asarray(H, jnp.float32))
            return jnp.mean(loss_fn(aux["z_continuous"], aux["z_quantized"]))

        return jax.grad(f)(params)["codebook"]

    np.testing.assert_array_equal(term(commitment_loss), 0.0)
    # d/dv_jk mean_b mean_j (h_bj - q_bj)^2 = sum_b [k_bj = k] 2 (v_jk - h_bj) / (B L).
    codebook = np.linspace(-0.5, 0.5, 6)
    idx = np.argmin(np.abs(H[:, :, None] - codebook), axis=-1)
    want = np.zeros((4, 6))
    for b in range(3):
        for j in range(4):
            want[j, idx[b, j]] += 2 * (codebook[idx[b, j]] - H[b, j]) / 12
    np.testing.assert_allclose(term(quantization_loss), want, atol=1e-6)


def test_loss_terms_are_per_example_means_with_the_stop_gradients_placed():
    z_c = jnp.asarray(H, jnp.float32)
    z_q = jnp.asarray(np.round(H * 4) / 4, jnp.float32)
    want = np.mean((H - np.round(H * 4) / 4) ** 2, axis=1)
    for fn in (quantization_loss, commitment_loss):
        np.testing.assert_allclose(fn(z_c, z_q), want, rtol=1e-6)
    g_c, g_q = jax.grad(lambda a, b: jnp.sum(quantization_loss(a, b)), (0, 1))(z_c, z_q)
    np.testing.assert_array_equal(g_c, 0.0)
    np.testing.assert_allclose(g_q, 2 * (np.asarray(z_q) - H) / 4, atol=1e-6)
    g_c, g_q = jax.grad(lambda a, b: jnp.sum(commitment_loss(a, b)), (0, 1))(z_c, z_q)
    np.testing.assert_array_equal(g_q, 0.0)
    np.testing.assert_allclose(g_c, 2 * (H - np.asarray(z_q)) / 4, atol=1e-6)


def test_global_quantizer_shares_one_codebook():
    layer = GlobalQuantizer(num_values=4)
    params = layer.init(jax.random.PRNGKey(0), H)["params"]
    np.testing.assert_allclose(params["codebook"], np.linspace(-0.5, 0.5, 4), atol=1e-7)
    _, aux = layer.apply({"params": params}, H)
    idx = np.argmin(np.abs(H[:, :, None] - np.linspace(-0.5, 0.5, 4)), axis=-1)
    np.testing.assert_array_equal(aux["z_indices"], idx)


def test_vector_quantizer_nearest_codes_and_shapes():
    layer = VectorQuantizer(num_codes=5, code_dim=2)
    params = layer.init(jax.random.PRNGKey(0), H)["params"]
    codebook = np.asarray(params["codebook"])
    assert codebook.shape == (5, 2) and np.all(np.abs(codebook) <= np.sqrt(3 / 2))
    z, aux = layer.apply({"params": params}, H)
    vectors = H.reshape(3, 2, 2)
    idx = np.argmin(((vectors[:, :, None] - codebook) ** 2).sum(-1), axis=-1)
    np.testing.assert_array_equal(aux["z_indices"], idx)
    assert aux["z_continuous"].shape == aux["z_quantized"].shape == (3, 2, 2)
    np.testing.assert_allclose(z, codebook[idx].reshape(3, 4), atol=1e-6)


def test_bio_and_gaussian_latents():
    z, aux = BioLatent().apply({}, H)
    np.testing.assert_array_equal(z, H)
    assert aux == {}
    np.testing.assert_array_equal(BioLatent(relu=True).apply({}, H)[0], np.maximum(H, 0))
    z, aux = DiagonalGaussian().apply({}, H)
    np.testing.assert_allclose(z, H[:, :2])
    np.testing.assert_allclose(aux["logvar"], 2 * np.log(np.log1p(np.exp(H[:, 2:]))), rtol=1e-5)
    sampled, _ = DiagonalGaussian().apply({}, H, sample=True, rngs={"latent": jax.random.key(1)})
    assert sampled.shape == (3, 2) and not np.allclose(sampled, H[:, :2])
