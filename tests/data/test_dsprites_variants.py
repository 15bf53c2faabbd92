import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.data.base import DATASETS, GroundTruthDataset
from disentax.data.dsprites import ProceduralDSprites
from disentax.data.dsprites_variants import (
    BACKGROUND_COLORS,
    OBJECT_COLORS,
    SCREAM,
    AbstractDSprites,
    ColorDSprites,
    NoisyDSprites,
    ScreamDSprites,
)
from disentax.errors import UserError

CLASSES = {
    "color_dsprites_procedural": ColorDSprites,
    "noisy_dsprites_procedural": NoisyDSprites,
    "scream_dsprites_procedural": ScreamDSprites,
    "abstract_dsprites_procedural": AbstractDSprites,
}
NAMES = list(CLASSES)
DSPRITES_NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
ABSTRACT_NAMES = ("background_color", "object_color", "shape", "scale", "pos_x", "pos_y")
KEY = jax.random.key(0)
N = 8  # one batch size throughout, so each dataset compiles once


@jax.jit
def sprites(factors_Nx5):
    """The binary dSprites masks `[N, 64, 64]` the variants are drawn from."""
    return ProceduralDSprites().observations_from_factors(factors_Nx5)[..., 0]


@functools.partial(jax.jit, static_argnums=0)
def _observe(ds, factors_NxK, rng):
    return ds.observations_from_factors(factors_NxK, rng)


def observe(name, factors, rng=KEY):
    """Jitted observations of N images; image i's nuisance depends only on `rng` and i."""
    return np.asarray(_observe(CLASSES[name](), jnp.asarray(factors, jnp.int32), rng))


def random_factors(name, seed, n=N):
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, k, n) for k in CLASSES[name].factor_sizes], axis=1)


@pytest.mark.parametrize("name", NAMES)
def test_registry_protocol_and_factors(name):
    cls = DATASETS.get(name)
    assert cls is CLASSES[name]
    ds = cls(base_size=0.3, margin=0.15)
    assert isinstance(ds, GroundTruthDataset)
    assert ds.name == name
    assert hash(ds) == hash(cls(base_size=0.3, margin=0.15))
    assert ds.observation_shape == (64, 64, 3)
    if name == "abstract_dsprites_procedural":
        assert ds.factor_names == ABSTRACT_NAMES
        assert ds.factor_sizes == (5, 6, 3, 6, 32, 32)
        assert ds.num_examples == 552_960
    else:
        assert ds.factor_names == DSPRITES_NAMES
        assert ds.factor_sizes == (3, 6, 40, 32, 32)
        assert ds.num_examples == 737_280


@pytest.mark.parametrize("name", NAMES)
def test_images_jit_matches_eager_and_rng(name):
    factors = random_factors(name, 1)
    batch = observe(name, factors)
    assert batch.shape == (N, 64, 64, 3) and batch.dtype == np.float32
    assert batch.min() >= 0 and batch.max() <= 1
    eager = CLASSES[name]().observations_from_factors(jnp.asarray(factors, jnp.int32), KEY)
    np.testing.assert_allclose(eager, batch, atol=1e-6)
    np.testing.assert_array_equal(observe(name, factors, jax.random.key(0)), batch)
    assert not np.array_equal(observe(name, factors, jax.random.key(1)), batch)
    with pytest.raises(UserError, match=f"^{name} needs an rng for its nuisance"):
        CLASSES[name]().observations_from_factors(jnp.asarray(factors))


@pytest.mark.parametrize("name", NAMES)
def test_every_factor_changes_the_image(name):
    """Changing one factor of each of N random settings changes its image (same nuisances)."""
    factors = random_factors(name, 2)
    images = observe(name, factors)
    for k, (factor, size) in enumerate(
        zip(CLASSES[name].factor_names, CLASSES[name].factor_sizes, strict=True)
    ):
        changed = factors.copy()
        changed[:, k] = (factors[:, k] + max(1, size // 3)) % size
        differences = np.abs(observe(name, changed) - images).sum(axis=(1, 2, 3))
        assert np.all(differences > 1), factor


def test_color_pixels_are_one_colour_on_the_sprite():
    factors = random_factors("color_dsprites_procedural", 3)
    images = observe("color_dsprites_procedural", factors)
    masks = np.asarray(sprites(jnp.asarray(factors)))
    colours = []
    for image, mask in zip(images, masks, strict=True):
        np.testing.assert_array_equal(image.max(axis=-1) > 0, mask == 1)
        on = image[mask == 1]
        np.testing.assert_array_equal(on, np.broadcast_to(on[0], on.shape))
        assert np.all((on[0] >= 0.5) & (on[0] <= 1))
        colours.append(on[0])
    assert len(np.unique(np.array(colours), axis=0)) == N


def test_noisy_sprite_is_white_over_noise():
    factors = random_factors("noisy_dsprites_procedural", 4)
    images = observe("noisy_dsprites_procedural", factors)
    masks = np.asarray(sprites(jnp.asarray(factors))) == 1
    assert np.all(images[masks] == 1)
    background = images[~masks]
    assert background.min() >= 0 and background.max() < 1
    assert background.std() > 0.25  # U(0, 1) has std 0.29
    assert abs(background.mean() - 0.5) < 0.01
    assert not np.array_equal(images[..., 0], images[..., 1])


def test_scream_sprite_inverts_the_background():
    factors = random_factors("scream_dsprites_procedural", 5)
    factors[:, 3] = 2  # the sprite near the left edge ...
    moved = factors.copy()
    moved[:, 3] = 29  # ... and near the right edge, over the same background
    images, other = (
        observe("scream_dsprites_procedural", factors),
        observe("scream_dsprites_procedural", moved),
    )
    masks = np.asarray(sprites(jnp.asarray(factors))) == 1
    other_masks = np.asarray(sprites(jnp.asarray(moved))) == 1
    assert not np.any(masks & other_masks)
    np.testing.assert_allclose(images[masks], 1 - other[masks], atol=1e-6)
    neither = ~masks & ~other_masks
    np.testing.assert_array_equal(images[neither], other[neither])
    assert SCREAM.shape == (274, 350, 3) and SCREAM.min() >= 0 and SCREAM.max() <= 1
    # A smooth picture: neighbouring background pixels are close, backgrounds differ per image.
    assert np.abs(np.diff(images[:, :, 40:], axis=2)).max() < 0.1
    assert len(np.unique(images[:, 0, -1].round(4), axis=0)) == N


def test_abstract_colours_and_nuisance_orientation():
    assert BACKGROUND_COLORS.tolist() == [[g] * 3 for g in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert OBJECT_COLORS.shape == (6, 3)
    np.testing.assert_allclose(OBJECT_COLORS[0], [0.90962, 0.58834, 0.36577], atol=1e-5)
    factors = random_factors("abstract_dsprites_procedural", 6)
    factors[:, 0] = [0, 1, 2, 3, 4, 0, 1, 2]
    factors[:, 1] = [0, 1, 2, 3, 4, 5, 0, 1]
    images = observe("abstract_dsprites_procedural", factors)
    for image, (background, colour, shape, scale, x, y) in zip(images, factors, strict=True):
        all_orientations = np.array([[shape, scale, o, x, y] for o in range(40)])
        candidates = np.concatenate(
            [sprites(chunk) for chunk in all_orientations.reshape(-1, N, 5)]
        )
        mask = (image != BACKGROUND_COLORS[background]).any(axis=-1)
        assert any(np.array_equal(mask, c == 1) for c in candidates)
        np.testing.assert_array_equal(
            image[~mask], np.broadcast_to(BACKGROUND_COLORS[background], image[~mask].shape)
        )
        np.testing.assert_allclose(
            image[mask], np.broadcast_to(OBJECT_COLORS[colour], image[mask].shape)
        )


def test_options_reach_the_sprite():
    factors = jnp.asarray(random_factors("noisy_dsprites_procedural", 7))
    small = NoisyDSprites().observations_from_factors(factors, KEY)
    large = NoisyDSprites(base_size=0.35, margin=0.2).observations_from_factors(factors, KEY)
    assert (large == 1).all(axis=-1).sum() > (small == 1).all(axis=-1).sum()


def test_out_of_range_factor_is_named():
    factors = np.zeros((1, 6), np.int32)
    factors[0, 0] = 5
    with pytest.raises(UserError, match="'background_color' must be in \\[0, 4\\], got 5"):
        AbstractDSprites().observations_from_factors(jnp.asarray(factors), KEY)
