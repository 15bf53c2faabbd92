"""`config.dataset_options`: the dataset's keyword options, from a config or the command line."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from disentax import config as config_lib
from disentax import data
from disentax.errors import UserError
from disentax.train import build


@pytest.fixture
def config():
    c = config_lib.load_config("beta_vae:tiny")
    c.model = "tiny_fc_vae"
    return c


def test_default_options_build_the_default_dataset(config):
    assert config.dataset_options.to_dict() == {}
    assert build(config).dataset.observation_shape == (64, 64, 1)


def test_command_line_adds_options_that_reach_the_dataset(config):
    config.dataset = "xysquares"
    config_lib.apply_overrides(
        config, ["dataset_options.square_size=4", "dataset_options.image_size=32"]
    )
    assert config.dataset_options.to_dict() == {"square_size": 4, "image_size": 32}
    dataset = build(config).dataset
    # disent's XYSquares: (image_size - square_size) // spacing + 1 positions per axis, 3 squares.
    assert dataset.observation_shape == (32, 32, 3)
    assert dataset.factor_sizes == (8,) * 6
    config_lib.apply_overrides(config, ["dataset_options.square_size=8"])  # an existing option
    assert build(config).dataset.factor_sizes == (4,) * 6


def test_options_survive_the_json_round_trip_of_a_workdir(config):
    config.dataset = "xysquares"
    config_lib.apply_overrides(config, ["dataset_options.square_size=4"])
    back = config_lib.from_json(config_lib.to_json(config))
    assert build(back).dataset.square_size == 4


def test_configs_written_before_the_field_still_build(config):
    del config["dataset_options"]
    assert build(config).dataset.name == "dsprites_procedural"


@pytest.mark.parametrize(
    ("dataset", "option", "message"),
    [
        (
            "dsprites_procedural",
            "dataset_options.square_size=4",
            "has no option 'square_size'; options: base_size, margin",
        ),
        ("xysquares", "dataset_options.square_size=2.5", "'square_size' must be int, got 2.5"),
        ("xysquares", "dataset_options.square_size=True", "'square_size' must be int, got True"),
        ("xysquares", "dataset_options.square_size=0", "square_size must be a positive"),
        ("dsprites", "dataset_options.bogus=1", "bad options for dataset 'dsprites'"),
        ("dsprites", "dataset_options.data_dir='/nonexistent'", "/nonexistent"),
    ],
)
def test_bad_options_are_one_line_errors(config, dataset, option, message):
    config.dataset = dataset
    config_lib.apply_overrides(config, [option])
    with pytest.raises(UserError, match=message) as info:
        build(config)
    assert "\n" not in str(info.value)


@settings(max_examples=60, deadline=None)
@given(
    dataset=st.sampled_from(["xysquares", "xyobject", "dsprites_procedural"]),
    name=st.sampled_from(
        ["square_size", "image_size", "grid_spacing", "grid_size", "base_size", "x"]
    ),
    value=st.one_of(
        st.integers(-3, 80).map(str),
        st.floats(-2, 80).map(str),
        st.sampled_from(["a", "None", "()"]),
    ),
)
def test_fuzzed_options_build_or_give_a_one_line_error(dataset, name, value):
    config = config_lib.load_config("beta_vae:tiny")
    config.model, config.dataset = "tiny_fc_vae", dataset
    try:
        config_lib.apply_overrides(config, [f"dataset_options.{name}={value}"])
        dataset = build(config).dataset
        images, factors = data.sample(dataset, jax.random.PRNGKey(0), 2)
        assert images.shape == (2, *dataset.observation_shape) and np.all(np.isfinite(images))
        assert factors.shape == (2, len(dataset.factor_sizes))
    except UserError as e:
        assert str(e) and "\n" not in str(e)
