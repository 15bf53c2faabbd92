import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.data.base import DATASETS, GroundTruthDataset
from disentax.data.xy import RAINBOW_4, XYObject, XYSquares
from disentax.errors import UserError

N = 8  # one batch size throughout, so each dataset compiles once


@functools.partial(jax.jit, static_argnums=0)
def _observe(ds, factors_NxK):
    return ds.observations_from_factors(factors_NxK)


def observe(ds, factors) -> np.ndarray:
    return np.asarray(_observe(ds, jnp.asarray(factors, jnp.int32)))


def random_factors(ds, seed, n=N) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, k, n) for k in ds.factor_sizes], axis=1)


def top_left(mask: np.ndarray) -> tuple[int, int]:
    """(x, y) of the first on pixel of a 2-D mask."""
    rows, cols = np.nonzero(mask)
    return int(cols.min()), int(rows.min())


@pytest.mark.parametrize(
    ("name", "cls", "names", "sizes", "count"),
    [
        ("xyobject", XYObject, ("x", "y", "scale", "color"), (25, 25, 5, 24), 75_000),
        ("xysquares", XYSquares, ("x_R", "y_R", "x_G", "y_G", "x_B", "y_B"), (8,) * 6, 8**6),
    ],
)
def test_registry_protocol_and_factors(name, cls, names, sizes, count):
    assert DATASETS.get(name) is cls
    ds = cls()
    assert isinstance(ds, GroundTruthDataset)
    assert ds.name == name
    assert (ds.factor_names, ds.factor_sizes, ds.num_examples) == (names, sizes, count)
    assert ds.observation_shape == (64, 64, 3)
    assert hash(ds) == hash(cls())
    corners = np.array([[0] * len(sizes), [k - 1 for k in sizes]])
    np.testing.assert_array_equal(ds.index_of(jnp.asarray(corners)), [0, count - 1])


@pytest.mark.parametrize("ds", [XYObject(), XYSquares()], ids=["xyobject", "xysquares"])
def test_images_jit_matches_eager_and_rng_is_unused(ds):
    factors = jnp.asarray(random_factors(ds, 0), jnp.int32)
    batch = observe(ds, factors)
    assert batch.shape == (N, 64, 64, 3) and batch.dtype == np.float32
    assert batch.min() == 0 and batch.max() <= 1
    np.testing.assert_array_equal(ds.observations_from_factors(factors), batch)
    np.testing.assert_array_equal(ds.observations_from_factors(factors, jax.random.key(1)), batch)


@pytest.mark.parametrize("ds", [XYObject(), XYSquares()], ids=["xyobject", "xysquares"])
def test_every_factor_changes_the_image(ds):
    factors = random_factors(ds, 1)
    images = observe(ds, factors)
    for k, (name, size) in enumerate(zip(ds.factor_names, ds.factor_sizes, strict=True)):
        changed = factors.copy()
        changed[:, k] = (factors[:, k] + max(1, size // 3)) % size
        assert np.all(np.abs(observe(ds, changed) - images).sum(axis=(1, 2, 3)) > 0), name


def test_xyobject_palette_is_rainbow_4():
    hues = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 1, 1], [0, 0, 1], [1, 0, 1]])
    np.testing.assert_allclose(RAINBOW_4[:6], hues * 63 / 255)  # 255 * 1 // 4
    np.testing.assert_allclose(RAINBOW_4[6:12], hues * 127 / 255)
    np.testing.assert_allclose(RAINBOW_4[-6:], hues)


def test_xyobject_square_size_position_and_colour():
    ds = XYObject()
    factors = random_factors(ds, 2)
    factors[:2] = [[0, 0, 0, 0], [24, 24, 4, 23]]  # both extremes stay inside the image
    for image, (x, y, scale, color) in zip(observe(ds, factors), factors, strict=True):
        size = 7 + 2 * scale
        mask = image.any(axis=-1)
        assert mask.sum() == size**2
        offset = (15 - size) // 2
        assert top_left(mask) == (2 * x + offset, 2 * y + offset)
        np.testing.assert_array_equal(image[mask], np.broadcast_to(RAINBOW_4[color], (size**2, 3)))


def test_xysquares_one_square_per_channel():
    ds = XYSquares()
    factors = random_factors(ds, 3)
    factors[0] = [3, 5, 3, 5, 3, 5]  # all three squares overlap: white
    images = observe(ds, factors)
    assert set(np.unique(images)) == {0.0, 1.0}
    for image, f in zip(images, factors, strict=True):
        for c in range(3):
            assert image[..., c].sum() == 64
            assert top_left(image[..., c]) == (8 * f[2 * c], 8 * f[2 * c + 1])
    assert (images[0].min(axis=-1) == 1).sum() == 64


def test_xysquares_options():
    overlapping = XYSquares(grid_spacing=3)
    assert overlapping.factor_sizes == (19,) * 6  # (64 - 8) // 3 + 1
    capped = XYSquares(grid_size=4)
    assert capped.factor_sizes == (4,) * 6
    factors = np.array([[0, 0, 1, 2, 18, 18]])
    image = np.asarray(overlapping.observations_from_factors(jnp.asarray(factors)))[0]
    offset = (64 - (8 + 18 * 3)) // 2  # the grid is centred: 1
    for c in range(3):
        assert image[..., c].sum() == 64
        assert top_left(image[..., c]) == tuple(offset + 3 * factors[0, 2 * c : 2 * c + 2])
    image = np.asarray(capped.observations_from_factors(jnp.asarray([[0, 0, 3, 3, 1, 2]])))[0]
    assert top_left(image[..., 0]) == (16, 16) and top_left(image[..., 1]) == (40, 40)
    small = XYSquares(square_size=4, image_size=32)
    assert small.factor_sizes == (8,) * 6 and small.observation_shape == (32, 32, 3)


def test_bad_options_and_factors_raise_user_errors():
    with pytest.raises(UserError, match="square_size must be a positive integer"):
        XYSquares(square_size=0)
    with pytest.raises(UserError, match="square_size must be at most image_size"):
        XYSquares(square_size=65)
    with pytest.raises(UserError, match="min_square_size <= max_square_size <= grid_size"):
        XYObject(min_square_size=9, max_square_size=7)
    with pytest.raises(UserError, match="'scale' must be in \\[0, 4\\], got 5"):
        XYObject().observations_from_factors(jnp.array([[0, 0, 5, 0]]))
