"""Traversals: codes that sweep one latent, decoded rows, order by KL or activity, marks."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.errors import UserError
from disentax.viz import model_figures, traversals
from disentax.viz.images import MARK_RGB

H = W = 6
READ = 2  # the only latent the decoder reads
SCALES = jnp.array([0.1, 1.0, 3.0, 0.5])  # mu_l = scale_l * mean(x)


class ReadsOneLatent(nn.Module):
    """A parameter-free 'VAE': mu_l = scale_l · mean(x), logvar 0; the decoder's logits are
    z_READ everywhere, so it ignores every other latent."""

    def encode(self, x):
        mu = SCALES * jnp.mean(x, axis=(1, 2, 3))[:, None]
        return mu, jnp.zeros_like(mu)

    def decode(self, z):
        return jnp.broadcast_to(z[:, READ, None, None, None], (z.shape[0], H, W, 1))

    def __call__(self, x, *, train=False):
        mu, logvar = self.encode(x)
        return self.decode(mu), {"z": mu, "mu": mu, "logvar": logvar}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-np.asarray(v, np.float64)))


def test_traversal_codes_set_one_latent_per_row():
    center = jnp.array([0.5, -1.0, 2.0])
    values = jnp.arange(6.0).reshape(3, 2)
    z = np.asarray(traversals.traversal_codes(center, values))
    assert z.shape == (3, 2, 3)
    for row in range(3):
        for step in range(2):
            expected = np.array(center)
            expected[row] = values[row, step]
            np.testing.assert_array_equal(z[row, step], expected)


def test_vector_latents_sweep_whole_codes():
    center = jnp.zeros((2, 3))  # 2 latents of D = 3
    codebook = jnp.arange(12.0).reshape(4, 3)  # 4 shared codes
    values = traversals.codebook_values(codebook, 2, vector=True)
    z = np.asarray(traversals.traversal_codes(center, values))
    assert z.shape == (2, 4, 2, 3)
    np.testing.assert_array_equal(z[1, :, 1], codebook)
    np.testing.assert_array_equal(z[1, :, 0], 0.0)
    np.testing.assert_array_equal(z[0, :, 0], codebook)


def test_per_latent_and_global_codebooks():
    per_latent = jnp.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(traversals.codebook_values(per_latent, 2), per_latent)
    shared = jnp.array([-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(traversals.codebook_values(shared, 2), [shared, shared])
    with pytest.raises(UserError, match="num_latents=3"):
        traversals.codebook_values(per_latent, 3)
    with pytest.raises(UserError, match="do not fit"):
        traversals.traversal_codes(jnp.zeros(3), jnp.zeros((2, 4)))


def test_kl_and_activity_closed_forms():
    mu = np.array([[1.0, 0.0], [-1.0, 0.0]])
    logvar = np.array([[0.0, np.log(4.0)], [0.0, np.log(4.0)]])
    # ½(μ² + σ² − log σ² − 1): (1 + 1 − 0 − 1)/2 and (0 + 4 − log 4 − 1)/2.
    np.testing.assert_allclose(traversals.gaussian_kl(mu, logvar), [0.5, (3 - np.log(4)) / 2])
    np.testing.assert_allclose(traversals.activity(mu), [1.0, 0.0])
    np.testing.assert_allclose(traversals.activity(np.stack([mu, 3 * mu], -1)), [10.0, 0.0])
    np.testing.assert_array_equal(traversals.latent_order([0.1, 3.0, 0.1, 2.0]), [1, 3, 0, 2])


def test_decoded_rows_change_only_for_the_latent_the_decoder_reads():
    center = jnp.array([0.3, -0.7, 0.2, 1.1])
    values = traversals.gaussian_values(jnp.zeros(4), jnp.ones(4), 2.0, 5)
    model = ReadsOneLatent()
    decode = lambda z: jax.nn.sigmoid(model.apply({}, z, method=model.decode))
    images = traversals.traversal_images(decode, center, values)
    assert images.shape == (4, 5, H, W, 1)
    for row in range(4):
        if row == READ:
            np.testing.assert_allclose(
                images[row, :, 0, 0, 0], sigmoid(np.linspace(-2, 2, 5)), 1e-6
            )
        else:  # the traversed latent is ignored: every column is the center's image
            np.testing.assert_allclose(images[row], sigmoid(center[READ]) + 0 * images[row], 1e-6)


def test_model_figures_sort_by_kl_and_mark_inactive_latents():
    u = jnp.linspace(0.0, 1.0, 32)
    x = jnp.broadcast_to(u[:, None, None, None], (32, H, W, 1))
    figures = model_figures(
        ReadsOneLatent(), {}, x, key=jax.random.PRNGKey(0), num_images=4, traversal_steps=5
    )
    stats = figures["latents"]
    # KL_l = ½ scale_l² mean(u²): order by scale; Var(mu_0) = 0.01 · Var(u) < 0.01.
    np.testing.assert_array_equal(stats["order"], [2, 1, 3, 0])
    np.testing.assert_array_equal(stats["inactive"], [True, False, False, False])
    pad = 2
    grid = figures["traversals"]
    assert grid.shape == (4 * (H + pad) + pad, 5 * (W + pad) + pad, 3) and grid.dtype == np.uint8
    cells = np.stack(
        [
            [grid[pad + r * (H + pad) :][:H, pad + c * (W + pad) :][:, :W] for c in range(5)]
            for r in range(4)
        ]
    ).astype(np.float64)
    # Row 0 is latent READ (largest KL), swept over ±2 around the prior.
    np.testing.assert_allclose(
        cells[0, :, 0, 0, 0] / 255, sigmoid(np.linspace(-2, 2, 5)), atol=1 / 255
    )
    assert np.ptp(cells[1:], axis=1).max() == 0  # other rows: identical columns
    # The last row (latent 0, inactive) is framed in red, the others in white.
    mark = (np.array(MARK_RGB) * 255).astype(np.uint8)
    np.testing.assert_array_equal(grid[3 * (H + pad), 0], mark)
    np.testing.assert_array_equal(grid[0, 0], [255, 255, 255])
    assert figures["reconstructions"].shape == (2 * (H + pad) + pad, 4 * (W + pad) + pad, 3)
    assert figures["samples"].shape == (2 * (H + pad) + pad, 8 * (W + pad) + pad, 3)
    frames = figures["traversals.gif"]
    assert len(frames) == 2 * 5 - 2 and frames[0].shape == (H + 2 * pad, 4 * (W + pad) + pad, 3)


CODEBOOK = jnp.array([[-1.0, 0.0, 1.0]] * 4) * jnp.array([1.0, 2.0, 3.0, 4.0])[:, None]


class QuantizedReadsOneLatent(nn.Module):
    """A scalar-quantized code (nearest value of `codebook [L, 3]` to scale_l · mean(x)); the
    decoder reads only z_READ."""

    @nn.compact
    def __call__(self, x, *, train=False):
        codebook = self.param("codebook", lambda _: CODEBOOK)
        h = SCALES * jnp.mean(x, axis=(1, 2, 3))[:, None]
        index = jnp.argmin(jnp.abs(h[:, :, None] - codebook), axis=-1)
        z = jnp.take_along_axis(codebook[None], index[:, :, None], axis=-1)[..., 0]
        logits = jnp.broadcast_to(z[:, READ, None, None, None], (z.shape[0], H, W, 1))
        return logits, {"z": z, "z_quantized": z, "z_indices": index}

    def decode(self, z):
        return jnp.broadcast_to(z[:, READ, None, None, None], (z.shape[0], H, W, 1))


def test_quantized_traversal_sweeps_every_codebook_value():
    x = jnp.broadcast_to(jnp.linspace(0.0, 1.0, 16)[:, None, None, None], (16, H, W, 1))
    model = QuantizedReadsOneLatent()
    params = model.init(jax.random.PRNGKey(0), x)["params"]
    figures = model_figures(model, params, x, key=jax.random.PRNGKey(0), traversal_steps=5)
    stats = figures["latents"]
    pad = 2
    grid = figures["traversals"]
    assert grid.shape == (4 * (H + pad) + pad, 3 * (W + pad) + pad, 3)  # V = 3 columns
    row = list(stats["order"]).index(READ)
    top = pad + row * (H + pad)
    swept = [grid[top, pad + c * (W + pad), 0] / 255 for c in range(3)]
    np.testing.assert_allclose(swept, sigmoid(CODEBOOK[READ]), atol=1 / 255)
    # Samples from the prior: every latent takes one of its codebook values.
    assert figures["samples"].shape == (2 * (H + pad) + pad, 8 * (W + pad) + pad, 3)


def test_most_used_codes_per_latent():
    from disentax.viz.figures import most_used

    indices = np.array([[0, 3], [2, 3], [2, 1], [1, 1], [2, 0]])
    np.testing.assert_array_equal(most_used(indices, 4, 2), [[2, 0], [1, 3]])
