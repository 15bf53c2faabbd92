"""P02's components (`components.py`: the reduced datasets and networks), registered on import
and imported by `build` from `config.components`, so a run of them is evaluated and resumed in a
fresh process."""

import json
import pathlib
import subprocess
import sys
import tempfile

import jax
import numpy as np
import pytest

from disentax import data
from disentax.errors import UserError
from disentax.models import MODELS
from disentax.models.qlae import ConvStack, ImageEncoder
from disentax.train import build, train
from disentax.train.loop import restore_run
from experiments.p02_qlae import (
    components,  # noqa: F401 (registers what the tests use)
    config,
)

CONFIG = pathlib.Path(config.__file__)


@pytest.mark.parametrize("name", ["dsprites_procedural", "shapes3d_procedural"])
def test_reduced_datasets_are_4x4_block_means_of_the_procedural_ones(name):
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
    images = jax.random.uniform(jax.random.PRNGKey(1), (8, 16, 16, 3))
    to_1x1 = ConvStack((4,) * 4, (4,) * 4, (2,) * 4, (8,))
    np.testing.assert_allclose(np.ptp(encoder_outputs(ImageEncoder(12, to_1x1), images), 0), 0)
    model = MODELS.get("qlae_16px")(num_latents=12, channels=3, image_size=16)
    assert np.all(np.ptp(encoder_outputs(ImageEncoder(12, model.encoder_stack), images), 0) > 1e-3)


def disentax_command(*args: str) -> subprocess.CompletedProcess:
    """`disentax ARGS` in a fresh process, started outside the repository: only `build`'s
    import of `config.components` can register the `_16px` components there."""
    return subprocess.run(
        [sys.executable, "-m", "disentax.cli", *args],
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_run_of_the_experiments_components_is_evaluated_and_resumed_in_a_fresh_process(tmp_path):
    c = config.get_config("model=qlae,dataset=shapes3d_procedural_16px,smoke")
    c.model = "qlae_16px"
    assert c.components == ("experiments.p02_qlae.components",)
    workdir = tmp_path / "run"
    train(c, workdir, progress=False)

    evaluated = disentax_command("evaluate", "--workdir", str(workdir), "--metrics", "mig")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    scores = json.loads((workdir / "metrics.json").read_text())
    assert scores["step"] == 2 and any(name.endswith("mig") for name in scores), scores

    resumed = disentax_command(
        "train",
        "--config",
        f"{CONFIG}:model=qlae,dataset=shapes3d_procedural_16px,smoke",
        "--config.model=qlae_16px",
        "--config.num_steps=4",
        "--workdir",
        str(workdir),
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    run, state = restore_run(workdir)
    assert int(state.step) == 4 and run.config.model == "qlae_16px"


def test_a_component_module_that_does_not_import_is_a_one_line_error():
    c = config.get_config("smoke")
    c.components = ("experiments.p02_qlae.no_such_module",)
    with pytest.raises(UserError, match="'experiments.p02_qlae.no_such_module', which does not"):
        build(c)
