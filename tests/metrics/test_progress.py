"""The interventional metrics' progress bars: each advances, from inside its jitted sampling
loops, by exactly the images it encodes, and reaches its total."""

import jax
import pytest
from classifier_cases import IdentityData, identity_representation

from disentax import data, metrics
from disentax.metrics import progress


class RecordingBar:
    """tqdm's interface as `progress.images_bar` uses it, recording the total and the updates."""

    bars: list["RecordingBar"] = []

    def __init__(self, total, desc, **_):
        self.total, self.desc, self.n = total, desc, 0
        RecordingBar.bars.append(self)

    def update(self, n):
        self.n += n

    def close(self):
        pass


SIZES = {
    "beta_vae_score": {"batch_size": 3, "num_train": 7, "num_eval": 5, "images_per_call": 20},
    "factor_vae_score": {
        "batch_size": 3,
        "num_train": 7,
        "num_eval": 5,
        "num_variance_estimate": 11,
        "images_per_call": 8,
    },
    "fairness": {"num_train": 9, "num_test_points_per_class": 2, "images_per_call": 16},
    "downstream": {"num_train": (6, 9), "num_test": 5},
}


@pytest.mark.parametrize("procedural", [True, False])
@pytest.mark.parametrize("name", SIZES)
def test_bar_counts_every_encoded_image(monkeypatch, name, procedural):
    """Procedural datasets render and encode inside one jit (the bar advances by
    `jax.debug.callback`), stored ones on the host; either way the bars end at their totals,
    which add up to the images the representation encoded (counted as its calls execute)."""
    monkeypatch.setattr(progress, "tqdm", RecordingBar)
    monkeypatch.setattr(data, "is_procedural", lambda _: procedural)
    RecordingBar.bars = []
    encoded = []

    def representation(images):
        jax.debug.callback(encoded.append, images.shape[0])
        return identity_representation(images)

    getattr(metrics, name)(IdentityData(), representation, jax.random.PRNGKey(0), **SIZES[name])
    assert RecordingBar.bars and all(bar.n == bar.total for bar in RecordingBar.bars)
    assert sum(bar.total for bar in RecordingBar.bars) == sum(map(int, encoded)) > 0
