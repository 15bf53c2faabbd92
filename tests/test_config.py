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
    assert config_lib.load_config(None).to_dict() == config_lib.load_config("beta_vae").to_dict()
    assert config_lib.load_config("beta_vae:tiny").model == "tiny_conv_vae"
    path = tmp_path / "cfg.py"
    path.write_text(
        "import ml_collections\n"
        "def get_config(arg):\n"
        "    return ml_collections.ConfigDict({'arg': arg})\n"
    )
    assert config_lib.load_config(f"{path}:hello").arg == "hello"
    assert config_lib.load_config(str(path)).arg is None


def test_beta_vae_full_is_disentanglement_libs_and_the_default_a_short_run_of_its_loss():
    full, default = config_lib.load_config("beta_vae:full"), config_lib.load_config("beta_vae")
    # disentanglement_lib's β-VAE (reference/anchors-core.md): conv network, Adam 1e-4, batch 64,
    # β = 4, 10 latents, 300k steps.
    assert (full.model, full.optimizer.learning_rate, full.batch_size) == (
        "dlib_conv_vae",
        1e-4,
        64,
    )
    assert (full.objective.to_dict(), full.num_latents, full.num_steps) == (
        {"name": "beta_vae", "beta": 4.0},
        10,
        300_000,
    )
    # The default keeps its data, loss and evaluation (MIG on 10,000 points, as
    # disentanglement_lib) and changes only the network, the step size and the length.
    allowed = {"model", "optimizer.learning_rate", "num_steps", "log_every_steps"}
    allowed |= {"checkpoint_every_steps"}
    assert set(config_lib.differing_fields(default, full)) <= allowed
    assert default.num_steps <= 10_000 and default.model != full.model
    assert "mig" in default.eval.metrics.split(",") and default.eval.num_samples == 10_000


def test_a_config_module_is_named_by_its_dotted_name():
    by_name = config_lib.load_config("experiments.dlib_weakly_supervised.config:k=2,smoke")
    by_path = config_lib.load_config("experiments/dlib_weakly_supervised/config.py:k=2,smoke")
    assert by_name.to_json() == by_path.to_json() and by_name.data_pairs_k == 2


@pytest.mark.parametrize(
    "spec,message",
    [
        ("missing_config", "neither a file nor a built-in config"),
        ("beta_vae:nonsense", "unknown argument 'nonsense'"),
        ("experiments.no_such_paper.config", "failed to import: ModuleNotFoundError"),
        ("disentax.errors", "defines no get_config"),
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
        ("batch_size=abc", "needs an int"),
        ("batch_size=1.5", "needs an int"),
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


DEFAULTS = {"model": "ada_gvae", "beta": 1.0, "k": -1, "seed": 0, "smoke": False}


def test_parse_arg_types_each_value_by_its_default():
    args = config_lib.parse_arg("model=ada_ml_vae,k=2,smoke", **DEFAULTS)
    assert args.to_dict() == {"model": "ada_ml_vae", "beta": 1.0, "k": 2, "seed": 0, "smoke": True}
    assert isinstance(config_lib.parse_arg("beta=4", **DEFAULTS).beta, float)
    assert config_lib.parse_arg(" smoke=false , seed=3 ", **DEFAULTS).to_dict() == {
        **DEFAULTS,
        "smoke": False,
        "seed": 3,
    }
    assert config_lib.parse_arg(None, **DEFAULTS).to_dict() == DEFAULTS
    assert config_lib.parse_arg("", **DEFAULTS).to_dict() == DEFAULTS


@pytest.mark.parametrize(
    "arg,message",
    [
        ("gamma=3", "unknown argument 'gamma'; allowed: beta, k, model, seed, smoke"),
        ("k=two", "argument 'k' needs an int, got 'two'"),
        ("beta=high", "argument 'beta' needs a float, got 'high'"),
        ("smoke=maybe", "argument 'smoke' needs true or false, got 'maybe'"),
        ("k", "argument 'k' needs a value: k=VALUE"),
        ("k=1,k=2", "argument 'k' is given twice"),
        ("=3", "unknown argument '=3'; allowed: beta, k, model, seed, smoke"),
    ],
)
def test_parse_arg_errors_are_one_line(arg, message):
    with pytest.raises(UserError) as error:
        config_lib.parse_arg(arg, **DEFAULTS)
    assert str(error.value) == message


def test_import_components_registers_once_per_process_and_names_a_missing_module(config):
    from disentax import data

    # The registry rejects a name registered twice: importing the module again (another build,
    # the same name twice) must not register again.
    config.components = ("experiments.p02_qlae.components",) * 2
    config_lib.import_components(config)
    config_lib.import_components(config)
    assert data.get("shapes3d_procedural_16px").observation_shape == (16, 16, 3)
    config.components = ("experiments.no_such_module",)
    with pytest.raises(UserError) as error:
        build(config)
    message = str(error.value)
    assert "'experiments.no_such_module', which does not import" in message
    assert "\n" not in message
