"""Heatmaps: images of the right kind, one label per row and column, normalised importances."""

import numpy as np
import pytest

from disentax.errors import UserError
from disentax.viz import heatmaps


def test_heatmap_is_an_rgb_image_that_grows_with_the_matrix():
    small = heatmaps.nmi_heatmap(np.eye(2, 3))
    large = heatmaps.nmi_heatmap(np.eye(5, 10), [f"factor {k}" for k in range(5)])
    assert small.dtype == np.uint8 and small.ndim == 3 and small.shape[2] == 3
    assert large.shape[0] > small.shape[0] and large.shape[1] > small.shape[1]


def test_labels_must_match_the_matrix():
    with pytest.raises(UserError, match="one label per row and column"):
        heatmaps.heatmap(np.zeros((2, 3)), ["a", "b"], ["x", "y"])


def test_importance_is_drawn_per_factor(monkeypatch):
    drawn = {}
    monkeypatch.setattr(heatmaps, "heatmap", lambda m, rows, cols, **kw: drawn.update(m=m))
    heatmaps.importance_heatmap(np.array([[2.0, 0.0], [6.0, 0.0], [0.0, 0.0]]))  # R [L=3, K=2]
    np.testing.assert_allclose(drawn["m"], [[0.25, 0.75, 0.0], [0.0, 0.0, 0.0]])
