"""disentanglement_lib's colour, noisy, scream and abstract dSprites on the procedural sprites."""

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from disentax.data.base import DATASETS, FactorGrid
from disentax.data.dsprites import ORIENTATIONS, ProceduralDSprites
from disentax.errors import UserError


def _scream_texture(height: int = 274, width: int = 350) -> np.ndarray:
    """A smooth, colourful twirl, float32 `[height, width, 3]` in [0, 1].

    It stands in for scream.jpg (Munch's The Scream, which is not available here) at the size of
    disentanglement_lib's 350×274 thumbnail. With `(x, y)` the pixel position divided by `height`,
    `d = (x, y) - c` its offset from `c = (0.45 w/h, 0.4)`, and `(u, v) = c + R(α) d` the point
    turned by `α = 5 exp(-|d|² / 0.09)` (a twirl about c), channel k (phase `φ_k = 2.1 k`) is
    `0.5 + 0.25 (sin(9u + 4kv + φ_k) + sin(3 (k + 1) u - 11v + φ_k))`.
    """
    y, x = np.mgrid[0:height, 0:width].astype(np.float64) / height
    cx, cy = 0.45 * width / height, 0.4
    dx, dy = x - cx, y - cy
    alpha = 5 * np.exp(-(dx**2 + dy**2) / 0.3**2)
    u = cx + np.cos(alpha) * dx - np.sin(alpha) * dy
    v = cy + np.sin(alpha) * dx + np.cos(alpha) * dy
    channels = [
        0.5 + 0.25 * (np.sin(9 * u + 4 * k * v + phase) + np.sin(3 * (k + 1) * u - 11 * v + phase))
        for k, phase in enumerate((0.0, 2.1, 4.2))
    ]
    return np.stack(channels, axis=-1).astype(np.float32)


SCREAM = _scream_texture()

# disentanglement_lib's AbstractDSprites palettes: seaborn.husl_palette(6, h=0.1, s=0.7, l=0.7)
# for the object and five greys for the background.
OBJECT_COLORS = np.array(
    [
        [0.9096231780824386, 0.5883403686424795, 0.3657680693481871],
        [0.6350181801577739, 0.6927729880940552, 0.3626904230371999],
        [0.3764832455369271, 0.7283900430001952, 0.5963114605342514],
        [0.39548987063404156, 0.7073922557810771, 0.7874577552076919],
        [0.6963644829189117, 0.6220697032672371, 0.899716387820763],
        [0.90815966835861, 0.5511103319168646, 0.7494337214212151],
    ],
    dtype=np.float32,
)
BACKGROUND_COLORS = np.repeat(np.linspace(0.0, 1.0, 5, dtype=np.float32)[:, None], 3, axis=1)


@dataclasses.dataclass(frozen=True)
class _SpriteVariant(FactorGrid):
    """An RGB dataset drawn from the procedural dSprites masks of `ProceduralDSprites(base_size,
    margin)`, with nuisances drawn from a required `rng`."""

    base_size: float = 0.25
    margin: float = 0.125

    factor_names: ClassVar[tuple[str, ...]] = ProceduralDSprites.factor_names
    factor_sizes: ClassVar[tuple[int, ...]] = ProceduralDSprites.factor_sizes
    observation_shape: ClassVar[tuple[int, int, int]] = (64, 64, 3)
    nuisance: ClassVar[str]

    def masks(self, sprite_factors_Nx5: jax.Array) -> jax.Array:
        """Binary sprites, float32 `[N, 64, 64, 1]`, for (shape, scale, orientation, x, y)."""
        sprites = ProceduralDSprites(base_size=self.base_size, margin=self.margin)
        return sprites.observations_from_factors(sprite_factors_Nx5)

    def require_rng(self, rng: jax.Array | None) -> jax.Array:
        if rng is None:
            raise UserError(f"{self.name} needs an rng for its nuisance {self.nuisance}")
        return rng


@DATASETS.register("color_dsprites_procedural")
@dataclasses.dataclass(frozen=True)
class ColorDSprites(_SpriteVariant):
    """disentanglement_lib's ColorDSprites on the procedural sprites: the dSprites factors, the
    sprite painted in one random colour per image (a nuisance, not a factor)."""

    name: ClassVar[str] = "color_dsprites_procedural"
    nuisance: ClassVar[str] = "colour"

    def observations_from_factors(
        self, factors_NxK: jax.Array, rng: jax.Array | None = None
    ) -> jax.Array:
        """`sprite * c` with `c ~ U(0.5, 1)³` per image from `rng`, float32 `[N, 64, 64, 3]`."""
        self.check_factors(factors_NxK)
        shape = (np.shape(factors_NxK)[0], 1, 1, 3)
        colour = jax.random.uniform(self.require_rng(rng), shape, minval=0.5, maxval=1.0)
        return self.masks(factors_NxK) * colour


@DATASETS.register("noisy_dsprites_procedural")
@dataclasses.dataclass(frozen=True)
class NoisyDSprites(_SpriteVariant):
    """disentanglement_lib's NoisyDSprites on the procedural sprites: the dSprites factors, white
    sprites over uniform colour noise."""

    name: ClassVar[str] = "noisy_dsprites_procedural"
    nuisance: ClassVar[str] = "noise"

    def observations_from_factors(
        self, factors_NxK: jax.Array, rng: jax.Array | None = None
    ) -> jax.Array:
        """`min(sprite + u, 1)` with `u ~ U(0, 1)` per pixel and channel from `rng`, float32
        `[N, 64, 64, 3]`: sprite pixels are 1, the background is noise.

        u is drawn at 16-bit resolution, `(b + 0.5) / 2¹⁶` for uniform 16-bit integers b (two per
        random 32-bit word), which halves the cost of the random bits, the renderer's bottleneck.
        """
        self.check_factors(factors_NxK)
        n = np.shape(factors_NxK)[0]
        bits = jax.random.bits(
            self.require_rng(rng), (n, *self.observation_shape[:2], 2), jnp.uint32
        )
        halves = jnp.concatenate([bits >> 16, bits & 0xFFFF], axis=-1)[..., :3]
        noise = (halves.astype(jnp.float32) + 0.5) / 65536.0
        return jnp.minimum(self.masks(factors_NxK) + noise, 1.0)


@DATASETS.register("scream_dsprites_procedural")
@dataclasses.dataclass(frozen=True)
class ScreamDSprites(_SpriteVariant):
    """disentanglement_lib's ScreamDSprites on the procedural sprites: the dSprites factors, the
    sprite inverting a colour-shifted crop of a background picture.

    The picture is `SCREAM`, a procedural swirl that stands in for scream.jpg (not available).
    """

    name: ClassVar[str] = "scream_dsprites_procedural"
    nuisance: ClassVar[str] = "background crop and colour shift"

    def observations_from_factors(
        self, factors_NxK: jax.Array, rng: jax.Array | None = None
    ) -> jax.Array:
        """Float32 `[N, 64, 64, 3]`: per image, from `rng`, a crop `P = SCREAM[i:i+64, j:j+64]`
        with `i ~ U{0, .., 274 - 65}`, `j ~ U{0, .., 350 - 65}` and a shift `s ~ U(0, 1)³` give
        the background `b = (P + s) / 2`; sprite pixels are `1 - b`, the others `b`."""
        self.check_factors(factors_NxK)
        n = np.shape(factors_NxK)[0]
        height, width, _ = SCREAM.shape
        row_key, col_key, shift_key = jax.random.split(self.require_rng(rng), 3)
        rows = jax.random.randint(row_key, (n,), 0, height - 64)
        cols = jax.random.randint(col_key, (n,), 0, width - 64)
        crop = lambda i, j: jax.lax.dynamic_slice(jnp.asarray(SCREAM), (i, j, 0), (64, 64, 3))
        shift = jax.random.uniform(shift_key, (n, 1, 1, 3))
        background = (jax.vmap(crop)(rows, cols) + shift) / 2
        return jnp.where(self.masks(factors_NxK) == 1, 1 - background, background)


@DATASETS.register("abstract_dsprites_procedural")
@dataclasses.dataclass(frozen=True)
class AbstractDSprites(_SpriteVariant):
    """disentanglement_lib's AbstractDSprites (abstract reasoning study) on the procedural sprites:
    a sprite in one of 6 `OBJECT_COLORS` over one of 5 grey `BACKGROUND_COLORS`; orientation is a
    nuisance drawn uniformly from the 40 dSprites orientations (5·6·3·6·32·32 = 552,960 images)."""

    name: ClassVar[str] = "abstract_dsprites_procedural"
    factor_names: ClassVar[tuple[str, ...]] = (
        "background_color",
        "object_color",
        "shape",
        "scale",
        "pos_x",
        "pos_y",
    )
    factor_sizes: ClassVar[tuple[int, ...]] = (5, 6, 3, 6, 32, 32)
    nuisance: ClassVar[str] = "orientation"

    def observations_from_factors(
        self, factors_NxK: jax.Array, rng: jax.Array | None = None
    ) -> jax.Array:
        """`m * OBJECT_COLORS[object] + (1 - m) * BACKGROUND_COLORS[background]`, float32
        `[N, 64, 64, 3]`, with `m` the sprite at an orientation index `~ U{0, .., 39}` from
        `rng`."""
        self.check_factors(factors_NxK)
        factors = jnp.asarray(factors_NxK, dtype=jnp.int32)
        orientation = jax.random.randint(
            self.require_rng(rng), (factors.shape[0], 1), 0, len(ORIENTATIONS)
        )
        mask = self.masks(jnp.concatenate([factors[:, 2:4], orientation, factors[:, 4:]], axis=1))
        background = jnp.asarray(BACKGROUND_COLORS)[factors[:, 0], None, None, :]
        colour = jnp.asarray(OBJECT_COLORS)[factors[:, 1], None, None, :]
        return mask * colour + (1 - mask) * background
