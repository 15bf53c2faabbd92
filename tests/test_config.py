import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from disentax import config as config_lib
from disentax.errors import UserError
from disentax.train import build


@pytest.fixture
def config():
    return config_lib.load_config("beta_vae")


def test_builtin_and_file_configs_load(tmp_path):
    assert config_lib.load_config(None).model == "dlib_conv_vae"
    assert config_lib.load_config("beta_vae:tiny").model == "tiny_conv_vae"
    path = tmp_path / "cfg.py"
    path.write_text(
        "import ml_collections\n"
        "def get_config(arg):\n"
        "    return ml_collections.ConfigDict({'arg': arg})\n"
    )
    assert config_lib.load_config(f"{path}:hello").arg == "hello"
    assert config_lib.load_config(str(path)).arg is None


@pytest.mark.parametrize(
    "spec,message",
    [
        ("missing_config", "neither a file nor a built-in config"),
        ("beta_vae:nonsense", "unknown argument 'nonsense'"),
    ],
)
def test_bad_config_specs(spec, message):
    with pytest.raises(UserError, match=message):
        config_lib.load_config(spec)


def test_overrides_parse_to_the_field_type(config):
    config_lib.apply_overrides(
        config,
        [
            "objective.beta=8",
            "batch_size=32",
            "model=tiny_conv_vae",
            "async_checkpoints=false",
            "optimizer.learning_rate=3e-4",
        ],
    )
    assert config.objective.beta == 8.0 and isinstance(config.objective.beta, float)
    assert config.batch_size == 32 and config.model == "tiny_conv_vae"
    assert config.async_checkpoints is False and config.optimizer.learning_rate == 3e-4


def test_unknown_field_suggests_nearest(config):
    with pytest.raises(UserError, match=r"unknown config field 'objective.betta'.*objective.beta"):
        config_lib.apply_overrides(config, ["objective.betta=2"])


@pytest.mark.parametrize(
    "override,message",
    [
        ("batch_size=abc", "needs a int"),
        ("batch_size=1.5", "needs a int"),
        ("async_checkpoints=maybe", "needs true or false"),
        ("objective=3", "is a group"),
        ("num_steps", "not of the form FIELD=VALUE"),
    ],
)
def test_wrong_values_are_one_line_errors(config, override, message):
    with pytest.raises(UserError, match=message) as e:
        config_lib.apply_overrides(config, [override])
    assert "\n" not in str(e.value)


def test_json_round_trip_and_diff(config):
    back = config_lib.from_json(config_lib.to_json(config))
    assert config_lib.differing_fields(config, back) == []
    config_lib.apply_overrides(back, ["objective.beta=2", "num_steps=5"])
    assert config_lib.differing_fields(config, back) == ["num_steps", "objective.beta"]
    assert config_lib.differing_fields(config, back, ignore=("num_steps",)) == ["objective.beta"]


field_names = config_lib.field_names(config_lib.load_config("beta_vae"))
names = st.one_of(
    st.sampled_from(field_names),
    st.text(max_size=30),
    st.sampled_from(field_names).map(lambda n: n + "x"),
)
values = st.one_of(
    st.text(max_size=30),
    st.integers().map(str),
    st.floats(allow_nan=True).map(str),
    st.sampled_from(["true", "()", "[1,", "None", "(1, 'a')", "1e400"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(names, values), max_size=4))
def test_fuzz_overrides_never_traceback(pairs):
    config = config_lib.load_config("beta_vae")
    try:
        config_lib.apply_overrides(config, [f"{n}={v}" for n, v in pairs])
        build(config)
    except UserError as e:
        assert str(e) and "\n" not in str(e)


@pytest.mark.parametrize(
    "spec,message",
    [
        ("gamma=1,2", "unknown config field 'gamma'"),
        (
            "objective.betta=1",
            "unknown config field 'objective.betta'; did you mean objective.beta",
        ),
        ("seed=4:4", "sweep term 'seed=4:4' gives no value"),
        ("seed=8:2", "sweep term 'seed=8:2' gives no value"),
        ("beta=,", "sweep term 'beta=,' gives no value"),
        ("seed=0:x", "sweep range '0:x' of 'seed' needs integers"),
        ("beta", "sweep term 'beta' is not of the form FIELD=VALUES"),
        ("beta=one", "config field 'objective.beta' needs a float"),
        ("", "empty sweep"),
        ("seed=0:2 seed=3:5", "sweep names 'seed' twice; give all its values in one term"),
        ("beta=1 objective.beta=2", "sweep names 'objective.beta' twice"),
        ("beta=1,4,1.0", "sweep lists the value(s) 1, 1.0 of 'objective.beta' twice"),
        ("seed=0:2 beta=2,2", "sweep lists the value(s) 2 of 'objective.beta' twice"),
    ],
)
def test_bad_sweep_specs_are_one_line_errors(spec, message):
    config = config_lib.load_config("beta_vae:tiny")
    with pytest.raises(UserError, match=re.escape(message)) as e:
        config_lib.expand_sweep(config, spec)
    assert "\n" not in str(e.value)


def test_sweep_spec_is_the_product_of_its_terms():
    configs = config_lib.expand_sweep(config_lib.load_config("beta_vae:tiny"), "seed=0:3 beta=1,8")
    assert [(c.seed, c.objective.beta) for c in configs] == [
        (s, b) for s in range(3) for b in (1.0, 8.0)
    ]


def test_a_get_sweep_without_members_is_a_one_line_error(tmp_path):
    path = tmp_path / "cfg.py"
    path.write_text(
        "import ml_collections\n"
        "def get_config(arg):\n"
        "    return ml_collections.ConfigDict({'seed': int(arg or 0)})\n"
        "def get_sweep(arg):\n"
        "    return [] if arg == 'none' else ['1', '2']\n"
    )
    assert [c.seed for c in config_lib.load_sweep(str(path))] == [1, 2]
    with pytest.raises(UserError, match=r"get_sweep\('none'\) returned no member"):
        config_lib.load_sweep(f"{path}:none")


def test_a_get_sweep_that_repeats_a_member_is_a_one_line_error(tmp_path):
    path = tmp_path / "cfg.py"
    path.write_text(
        "import ml_collections\n"
        "def get_config(arg):\n"
        "    return ml_collections.ConfigDict({'seed': int(arg)})\n"
        "def get_sweep(arg):\n"
        "    return ['1', '2', '01']\n"
    )
    with pytest.raises(UserError, match=r"gives the same member twice \('1' and '01'\)"):
        config_lib.load_sweep(str(path))
