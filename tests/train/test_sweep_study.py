"""The unsupervised-study sweep: disentanglement_lib's grid on two datasets, reduced for CPU."""

import pytest

from disentax import config as config_lib
from disentax.errors import UserError
from disentax.train.population import group
from experiments.dlib_unsupervised_study import config as study_config

STUDY = "experiments.dlib_unsupervised_study.config"
UNSUPERVISED = "experiments.dlib_unsupervised.config"


def members(arg: str) -> list[dict]:
    return [
        dict(item.partition("=")[::2] for item in a.split(",")) for a in study_config.get_sweep(arg)
    ]


def test_default_sweep_is_the_full_grid_on_two_datasets_and_members_are_dlib_unsupervised():
    runs = members("")
    assert len(runs) == 2 * 6 * 6 * 50
    assert {r["dataset"] for r in runs} == {"dsprites_procedural", "shapes3d_procedural"}
    arg = "model=annealed_vae,c_max=75.0,dataset=shapes3d_procedural,seed=49"
    study = config_lib.load_config(f"{STUDY}:{arg}")
    alone = config_lib.load_config(f"{UNSUPERVISED}:{arg}")
    assert config_lib.differing_fields(study, alone) == ["eval.metrics"]
    assert set(study.eval.metrics.split(",")) == {
        "beta_vae_score",
        "factor_vae_score",
        "mig",
        "dci",
        "modularity_explicitness",
        "sap",
    }
    assert (study.num_steps, study.model, study.batch_size) == (300_000, "dlib_conv_vae", 64)


def test_small_sweep_reduces_steps_values_and_seeds_and_groups_by_model():
    configs = config_lib.load_sweep(f"{STUDY}:small,dataset=dsprites_procedural,steps=300")
    assert len(configs) == 6 * 2 * 2
    betas = sorted({c.objective.beta for c in configs if c.objective.name == "beta_vae"})
    assert betas == [1.0, 16.0]  # the grid's first and last values
    steps = {c.objective.name: c.num_steps for c in configs}
    assert steps["beta_vae"] == 300 and steps["factor_vae"] == 150  # dlib's 300k vs 150k
    annealed = next(c for c in configs if c.objective.name == "annealed_vae")
    assert annealed.objective.iteration_threshold == 100  # 100,000 of 300,000 steps
    assert {c.model for c in configs} == {"tiny_conv_vae"}
    assert [len(g) for g in group(configs)] == [4] * 6  # one population per model


@pytest.mark.parametrize(
    "arg,match",
    [("small,values=7", "values must be in 1..6"), ("small,epochs=3", "unknown argument 'epochs'")],
)
def test_bad_study_arguments_are_one_line_errors(arg, match):
    with pytest.raises(UserError, match=match):
        config_lib.load_sweep(f"{STUDY}:{arg}")
