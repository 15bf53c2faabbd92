import pytest

from disentax import data
from disentax.errors import UserError
from disentax.models import MODELS
from disentax.objectives import OBJECTIVES
from disentax.registry import Registry, call_registered


def test_register_get_and_decorator():
    reg = Registry("widget")

    @reg.register("b")
    def b():
        return 2

    reg.register("a", 1)
    assert reg.get("a") == 1 and reg.get("b") is b
    assert reg.names() == ["a", "b"] and "a" in reg and len(reg) == 2


def test_duplicates_rejected():
    reg = Registry("widget")
    reg.register("a", 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a", 2)


@pytest.mark.parametrize(
    "registry,known",
    [(MODELS, "dlib_conv_vae"), (OBJECTIVES, "beta_vae"), (data.DATASETS, "dsprites_procedural")],
)
def test_unknown_name_lists_known_in_one_line(registry, known):
    with pytest.raises(UserError) as e:
        registry.get("nope")
    message = str(e.value)
    assert "\n" not in message and "'nope'" in message and known in message


def test_bad_options_are_a_user_error():
    with pytest.raises(UserError, match="bad options for model 'tiny_conv_vae'"):
        call_registered(MODELS, "tiny_conv_vae", num_latents=3, colour="red")
    with pytest.raises(UserError, match="has no option 'colour'; options: base_size, margin"):
        data.get("dsprites_procedural", colour="red")
    assert call_registered(MODELS, "tiny_conv_vae", num_latents=3).num_latents == 3
