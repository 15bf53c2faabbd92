import colorsys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from matplotlib.colors import rgb_to_hsv

from disentax.data.base import DATASETS, GroundTruthDataset
from disentax.data.shapes3d import HUES, ProceduralShapes3D, hsv_to_rgb, render
from disentax.errors import UserError

SIZES = (10, 10, 10, 8, 4, 15)
DS = ProceduralShapes3D()
CUBE, CYLINDER, SPHERE, CAPSULE = range(4)
BATCH = 64  # every call is padded to one batch size, so the renderer compiles once
_OBSERVATIONS = jax.jit(DS.observations_from_factors)


def images(factors) -> np.ndarray:
    factors = np.asarray(factors, np.int32)
    padded = np.zeros((BATCH, 6), np.int32)
    padded[: len(factors)] = factors
    return np.asarray(_OBSERVATIONS(jnp.asarray(padded)))[: len(factors)]


def random_factors(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, k, n) for k in SIZES], axis=1)


def object_masks(factors) -> np.ndarray:
    """Pixels that change with the object's hue alone: the object's visible silhouette."""
    factors = np.asarray(factors)
    first, second = factors.copy(), factors.copy()
    first[:, 2], second[:, 2] = 0, 5
    both = images(np.concatenate([first, second]))
    return np.any(np.abs(both[: len(factors)] - both[len(factors) :]) > 0.02, axis=-1)


def mean_hue(pixels_Nx3: np.ndarray) -> float:
    """Circular mean of the pixels' hues, in [0, 1)."""
    angle = 2 * np.pi * rgb_to_hsv(pixels_Nx3)[:, 0]
    return float(np.mod(np.arctan2(np.sin(angle).mean(), np.cos(angle).mean()) / (2 * np.pi), 1))


def test_registry_protocol_and_grid():
    assert DATASETS.get("shapes3d_procedural") is ProceduralShapes3D
    assert isinstance(DS, GroundTruthDataset)
    assert DS.name == "shapes3d_procedural"
    names = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
    assert DS.factor_names == names
    assert DS.factor_sizes == SIZES
    assert DS.observation_shape == (64, 64, 3)
    assert DS.num_examples == 480_000
    hues = np.arange(10) / 10
    published = [hues, hues, hues, np.linspace(0.75, 1.25, 8), range(4), np.linspace(-30, 30, 15)]
    for k, expected in enumerate(published):
        factors = np.zeros((SIZES[k], 6), np.int32)
        factors[:, k] = np.arange(SIZES[k])
        values = np.asarray(DS.factor_values(jnp.asarray(factors)))
        assert values.dtype == np.float32
        np.testing.assert_allclose(values[:, k], expected, rtol=1e-6, atol=1e-7)
    assert DS.index_of(jnp.array([[9, 9, 9, 7, 3, 14], [0, 0, 0, 0, 0, 1]])).tolist() == [
        479_999,
        1,
    ]


def test_out_of_range_factors_raise():
    with pytest.raises(UserError, match="'shape' must be in \\[0, 3\\], got 4"):
        DS.observations_from_factors(jnp.array([[0, 0, 0, 0, 4, 0]]))


def test_hsv_to_rgb_matches_colorsys():
    hsv = np.random.default_rng(0).random((200, 3)).astype(np.float32)
    expected = [colorsys.hsv_to_rgb(*row) for row in hsv]
    np.testing.assert_allclose(hsv_to_rgb(*hsv.T), expected, atol=1e-6)


def test_images_jit_matches_eager_and_is_deterministic():
    factors = random_factors(1, 8)
    factors[0, 4] = CAPSULE
    batch = images(factors)
    assert batch.shape == (8, 64, 64, 3) and batch.dtype == np.float32
    assert batch.min() >= 0.0 and batch.max() <= 1.0
    np.testing.assert_array_equal(images(factors), batch)
    v = np.asarray(DS.factor_values(jnp.asarray(factors[:1])))[0]
    eager = render(*v[:4], CAPSULE, v[5])  # op by op, with a concrete shape
    np.testing.assert_allclose(eager, batch[0], atol=1e-5)


def test_every_factor_changes_the_image():
    base = random_factors(2, 8)
    changed = []
    for k, size in enumerate(SIZES):
        other = base.copy()
        other[:, k] = np.where(base[:, k] + 1 < size, base[:, k] + 1, base[:, k] - 1)
        changed.append(other)
    pictures = images(np.concatenate([base, *changed]))
    before, after = pictures[:8], pictures[8:].reshape(6, 8, 64, 64, 3)
    moved = np.sum(np.abs(after - before).max(axis=-1) > 0.02, axis=(2, 3))
    assert np.all(moved >= 30), dict(zip(DS.factor_names, moved.tolist(), strict=True))


@pytest.mark.parametrize(("factor", "rows"), [(0, slice(56, 64)), (1, slice(0, 4))])
def test_floor_and_wall_hues_follow_their_factor(factor, rows):
    factors = random_factors(3, 10)
    factors[:, factor] = np.arange(10)
    hues = [mean_hue(image[rows].reshape(-1, 3)) for image in images(factors)]
    distance = np.abs((np.array(hues) - HUES + 0.5) % 1 - 0.5)
    assert np.all(distance < 0.01), hues


def test_object_area_grows_with_scale():
    factors = [[1, 2, 7, scale, shape, 4] for shape in range(4) for scale in range(8)]
    areas = object_masks(factors).sum(axis=(1, 2)).reshape(4, 8)
    assert np.all(areas[:, 0] > 100)
    assert np.all(np.diff(areas, axis=1) > 0), areas


def test_shapes_have_different_silhouettes():
    masks = object_masks([[0, 0, 0, 5, shape, 7] for shape in range(4)])
    for i in range(4):
        for j in range(i):
            assert np.sum(masks[i] != masks[j]) > 40, (i, j)


def test_orientation_turns_the_cube_but_not_the_round_shapes():
    factors = [[3, 6, 9, 4, shape, o] for shape in (CUBE, CYLINDER, SPHERE) for o in (3, 7)]
    cube_a, cube_b, *round_shapes = object_masks(factors)
    assert np.sum(cube_a != cube_b) > 20
    assert np.sum(round_shapes[0] != round_shapes[1]) <= 2
    assert np.sum(round_shapes[2] != round_shapes[3]) <= 2


def test_cached_geometry_equals_ray_tracing():
    dataset = ProceduralShapes3D()
    factors = np.asarray(dataset.sample_factors(jax.random.PRNGKey(7), 16))
    values = np.asarray(dataset.factor_values(factors))
    traced = jax.jit(jax.vmap(render))(
        *values[:, :4].T, factors[:, 4].astype(np.int32), values[:, 5]
    )
    # Same geometry; brightness may round differently once fused (measured ≤ 2e-5).
    np.testing.assert_allclose(dataset.observations_from_factors(factors), traced, atol=1e-4)
