"""The QLAE experiment's reduced datasets (`experiments/qlae/config.py`); its claim test is
`experiments/qlae/test_claim.py`, run by hand."""

import pathlib

import numpy as np
import pytest

from disentax import config as config_lib
from disentax import data

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
