import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.data.base import DATASETS, GroundTruthDataset
from disentax.data.dsprites import ORIENTATIONS, ProceduralDSprites, render

SIZES = (3, 6, 40, 32, 32)
DS = ProceduralDSprites()
SQUARE, ELLIPSE, HEART = 0, 1, 2
# Eager JAX compiles every primitive separately; jitted rendering keeps the file fast.
OBSERVATIONS = jax.jit(DS.observations_from_factors)
RENDER = jax.jit(render)


def images(factors) -> np.ndarray:
    return np.asarray(OBSERVATIONS(jnp.asarray(factors, jnp.int32)))[..., 0]


def draw(shape, orientation, scale=1.0, pos_x=0.5, pos_y=0.5) -> np.ndarray:
    return np.asarray(RENDER(shape, scale, orientation, pos_x, pos_y))


def centroid(image: np.ndarray) -> np.ndarray:
    """(x, y) centroid in pixel-index coordinates."""
    rows, cols = np.nonzero(image)
    return np.array([cols.mean(), rows.mean()])


def random_factors(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, k, n) for k in SIZES], axis=1)


def test_grid_and_size():
    assert DS.factor_names == ("shape", "scale", "orientation", "pos_x", "pos_y")
    assert DS.factor_sizes == SIZES
    assert DS.observation_shape == (64, 64, 1)
    assert DS.num_examples == 737_280
    values = np.asarray(DS.factor_values(jnp.array([[2, 5, 39, 31, 31], [0, 0, 0, 0, 0]])))
    np.testing.assert_allclose(values[0], [2, 1.0, 2 * np.pi, 1.0, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(values[1], [0, 0.5, 0, 0, 0])


def test_index_round_trip_and_ravel_order():
    factors = random_factors(0, 500)
    index = np.asarray(DS.index_of(jnp.asarray(factors)))
    np.testing.assert_array_equal(index, np.ravel_multi_index(factors.T, SIZES))
    np.testing.assert_array_equal(DS.factors_of(jnp.asarray(index)), factors)
    corners = np.array([[0] * 5, [k - 1 for k in SIZES]])
    np.testing.assert_array_equal(DS.index_of(jnp.asarray(corners)), [0, 737_279])
    np.testing.assert_array_equal(DS.factors_of(jnp.array([0, 737_279])), corners)


def test_sample_factors():
    factors = jax.jit(DS.sample_factors, static_argnums=1)(jax.random.key(0), 20_000)
    assert factors.shape == (20_000, 5) and factors.dtype == jnp.int32
    for k, size in enumerate(SIZES):
        np.testing.assert_array_equal(np.unique(factors[:, k]), np.arange(size))
    np.testing.assert_array_equal(DS.sample_factors(jax.random.key(0), 20_000), factors)
    assert not np.array_equal(DS.sample_factors(jax.random.key(1), 20_000), factors)


def test_images_are_binary_and_jit_vmap_match_eager():
    factors = jnp.asarray(random_factors(1, 6), jnp.int32)
    batch = OBSERVATIONS(factors)
    assert batch.shape == (6, 64, 64, 1) and batch.dtype == jnp.float32
    assert set(np.unique(batch)) <= {0.0, 1.0}
    values = DS.factor_values(factors)
    eager = [render(int(f[0]), *v[1:]) for f, v in zip(factors, values, strict=True)]
    np.testing.assert_array_equal(batch[..., 0], np.stack(eager))


def test_area_grows_with_scale():
    factors = [[shape, scale, 0, 16, 16] for shape in range(3) for scale in range(6)]
    areas = images(factors).sum(axis=(1, 2)).reshape(3, 6)
    assert np.all(np.diff(areas, axis=1) > 0)


@pytest.mark.parametrize("scale", [0, 5])
def test_square_area(scale):
    side = DS.base_size * (0.5 + 0.1 * scale) * 64
    area = images([[SQUARE, scale, 0, 7, 23]]).sum()
    assert area == pytest.approx(side**2, rel=0.05)


def test_centroid_follows_position():
    pos = [0, 10, 20, 31]
    factors = [[shape, 3, 0, p, 12] for shape in range(3) for p in pos]
    factors += [[shape, 3, 0, 12, p] for shape in range(3) for p in pos]
    centres = np.array([centroid(image) for image in images(factors)]).reshape(2, 3, 4, 2)
    m = DS.margin
    expected = (m + np.array(pos) / 31 * (1 - 2 * m)) * 64 - 0.5
    other = (m + 12 / 31 * (1 - 2 * m)) * 64 - 0.5
    np.testing.assert_allclose(centres[0, :, :, 0], np.broadcast_to(expected, (3, 4)), atol=1.0)
    np.testing.assert_allclose(centres[1, :, :, 1], np.broadcast_to(expected, (3, 4)), atol=1.0)
    np.testing.assert_allclose(centres[0, :, :, 1], other, atol=1.0)
    np.testing.assert_allclose(centres[1, :, :, 0], other, atol=1.0)


def test_orientation_period_and_symmetries():
    first, last = images([[s, 4, o, 9, 21] for o in (0, 39) for s in range(3)]).reshape(
        2, 3, 64, 64
    )
    np.testing.assert_array_equal(first, last)
    assert ORIENTATIONS[-1] == np.float32(2 * np.pi)
    assert np.sum(draw(SQUARE, 0.0) != draw(SQUARE, np.pi / 2)) <= 8
    assert np.sum(draw(ELLIPSE, 0.3) != draw(ELLIPSE, 0.3 + np.pi)) <= 4
    assert np.sum(draw(HEART, 0.3) != draw(HEART, 0.3 + np.pi)) > 40


def test_shapes_differ():
    square, ellipse, heart = images([[s, 5, 3, 16, 16] for s in range(3)])
    for a, b in [(square, ellipse), (square, heart), (ellipse, heart)]:
        assert np.sum(a != b) > 20


def test_every_corner_is_non_empty():
    corners = [
        [shape, scale, orientation, x, y]
        for shape in range(3)
        for scale in (0, 5)
        for orientation in (0, 10, 39)
        for x in (0, 31)
        for y in (0, 31)
    ]
    assert np.all(images(corners).sum(axis=(1, 2)) > 0)


def test_traced_shape_under_jit_and_vmap():
    draw_all = jax.jit(jax.vmap(functools.partial(render, scale=0.7, orientation=1.0)))
    out = draw_all(jnp.arange(3), pos_x=jnp.full(3, 0.4), pos_y=jnp.full(3, 0.6))
    for shape in range(3):
        np.testing.assert_array_equal(out[shape], draw(shape, 1.0, scale=0.7, pos_x=0.4, pos_y=0.6))


def test_registry():
    cls = DATASETS.get("dsprites_procedural")
    assert cls is ProceduralDSprites
    ds = cls(base_size=0.3, margin=0.15)
    assert isinstance(ds, GroundTruthDataset)
    assert ds.name == "dsprites_procedural"
    assert hash(ds) == hash(cls(base_size=0.3, margin=0.15))
    observe = jax.jit(lambda d, f: d.observations_from_factors(f), static_argnums=0)
    bigger = np.asarray(observe(ds, jnp.array([[0, 5, 0, 16, 16]]))).sum()
    assert bigger > images([[0, 5, 0, 16, 16]]).sum()
