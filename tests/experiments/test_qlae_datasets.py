"""The QLAE experiment's reduced datasets and networks (`experiments/qlae/config.py`); its claim
test is `experiments/qlae/test_claim.py`, run by hand."""

import pathlib

import jax
import numpy as np
import pytest

from disentax import config as config_lib
from disentax import data
from disentax.models import MODELS
from disentax.models.qlae import ConvStack, ImageEncoder

CONFIG = pathlib.Path(__file__).resolve().parents[2] / "experiments" / "qlae" / "config.py"


@pytest.mark.parametrize("name", ["dsprites_procedural", "shapes3d_procedural"])
def test_reduced_datasets_are_4x4_block_means_of_the_procedural_ones(name):
    config_lib.load_config(f"{CONFIG}:smoke")  # registers the `_16px` datasets
    base, pooled = data.get(name), data.get(f"{name}_16px")
    assert pooled.factor_sizes == base.factor_sizes
    factors = np.array([[0] * len(base.factor_sizes), [s - 1 for s in base.factor_sizes]])
    images = np.asarray(base.observations_from_factors(factors))
    blocks = images.reshape(2, 16, 4, 16, 4, images.shape[-1])
    np.testing.assert_allclose(
        pooled.observations_from_factors(factors), blocks.mean(axis=(2, 4)), atol=1e-6
    )


def encoder_outputs(encoder, images):
    params = encoder.init(jax.random.PRNGKey(0), images[:1])["params"]
    return np.asarray(encoder.apply({"params": params}, images)[0])


def test_16px_networks_encode_what_a_1x1_last_map_cannot():
    # `_small`'s 4 stride-2 blocks end at 1 × 1 at 16 px, where instance norm subtracts the only
    # value: every image gets the same code (here with 4 channels per block, the same stack
    # shape). The `_16px` networks end at 4 × 4, as the paper's at 64 px.
    config_lib.load_config(f"{CONFIG}:smoke")  # registers the `_16px` networks
    images = jax.random.uniform(jax.random.PRNGKey(1), (8, 16, 16, 3))
    to_1x1 = ConvStack((4,) * 4, (4,) * 4, (2,) * 4, (8,))
    np.testing.assert_allclose(np.ptp(encoder_outputs(ImageEncoder(12, to_1x1), images), 0), 0)
    model = MODELS.get("qlae_16px")(num_latents=12, channels=3, image_size=16)
    assert np.all(np.ptp(encoder_outputs(ImageEncoder(12, model.encoder_stack), images), 0) > 1e-3)
