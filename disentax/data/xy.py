"""disent's procedural XYObject and XYSquares datasets (squares on a grid), rendered in pure JAX."""

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from disentax.data.base import DATASETS, FactorGrid
from disentax.errors import UserError

# disent's `rainbow_4` palette: the hues R, Y, G, C, B, M at brightness 1/4, 2/4, 3/4, 4/4
# (brightness-major, `hue * level // 4` in uint8), divided by 255.
_HUES = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 1, 1], [0, 0, 1], [1, 0, 1]]) * 255
RAINBOW_4 = (np.concatenate([_HUES * level // 4 for level in range(1, 5)]) / 255).astype(np.float32)


def square_mask(x: jax.Array, y: jax.Array, size: jax.Array, image_size: int) -> jax.Array:
    """Float32 `[image_size, image_size]`: 1 at row i, column j where `y <= i < y + size` and
    `x <= j < x + size` (clipped at the border, as numpy slicing); jittable and vmappable."""
    pixels = jnp.arange(image_size)
    rows = (pixels >= y) & (pixels < y + size)
    cols = (pixels >= x) & (pixels < x + size)
    return (rows[:, None] & cols[None, :]).astype(jnp.float32)


def _check_positive(dataset: str, **options: int) -> None:
    for key, value in options.items():
        if value < 1:
            raise UserError(f"{dataset}: {key} must be a positive integer, got {value}")


@DATASETS.register("xyobject")
@dataclasses.dataclass(frozen=True)
class XYObject(FactorGrid):
    """disent's XYObjectData: one coloured square on a black `grid_size`² RGB image.

    Defaults as disent (v0.3+): grid_size 64, grid_spacing 2, square sizes 7 to 15 in steps of 2
    and the `rainbow_4` palette, giving factors x 25, y 25, scale 5 (sizes 7, 9, 11, 13, 15),
    color 24 (`RAINBOW_4`) and 75,000 images. Positions: `(grid_size - max_square_size) //
    grid_spacing + 1` per axis. A square of size s has its top-left corner at
    `(grid_spacing * x + r, grid_spacing * y + r)`, `r = (max_square_size - s) // 2`, so smaller
    squares sit centred in the largest square's cell.
    """

    grid_size: int = 64
    grid_spacing: int = 2
    min_square_size: int = 7
    max_square_size: int = 15
    square_size_spacing: int = 2

    name: ClassVar[str] = "xyobject"
    factor_names: ClassVar[tuple[str, ...]] = ("x", "y", "scale", "color")

    def __post_init__(self):
        _check_positive(
            self.name,
            grid_spacing=self.grid_spacing,
            min_square_size=self.min_square_size,
            square_size_spacing=self.square_size_spacing,
        )
        if not self.min_square_size <= self.max_square_size <= self.grid_size:
            raise UserError(
                f"{self.name}: need min_square_size <= max_square_size <= grid_size, got "
                f"{self.min_square_size}, {self.max_square_size}, {self.grid_size}"
            )

    @property
    def square_sizes(self) -> np.ndarray:
        return np.arange(self.min_square_size, self.max_square_size + 1, self.square_size_spacing)

    @property
    def factor_sizes(self) -> tuple[int, ...]:
        placements = (self.grid_size - self.max_square_size) // self.grid_spacing + 1
        return placements, placements, len(self.square_sizes), len(RAINBOW_4)

    @property
    def observation_shape(self) -> tuple[int, int, int]:
        return self.grid_size, self.grid_size, 3

    def observations_from_factors(
        self, factors_NxK: jax.Array, rng: jax.Array | None = None
    ) -> jax.Array:
        """Float32 `[N, grid_size, grid_size, 3]`: `RAINBOW_4[color]` on the square, 0 elsewhere;
        pure and jittable (`rng` is unused)."""
        del rng
        self.check_factors(factors_NxK)
        factors = jnp.asarray(factors_NxK, dtype=jnp.int32)
        sizes = jnp.asarray(self.square_sizes, dtype=jnp.int32)[factors[:, 2]]
        corner = self.grid_spacing * factors[:, :2] + ((self.max_square_size - sizes) // 2)[:, None]
        draw = lambda x, y, size: square_mask(x, y, size, self.grid_size)
        masks = jax.vmap(draw)(corner[:, 0], corner[:, 1], sizes)
        return masks[..., None] * jnp.asarray(RAINBOW_4)[factors[:, 3], None, None, :]


@DATASETS.register("xysquares")
@dataclasses.dataclass(frozen=True)
class XYSquares(FactorGrid):
    """disent's XYSquaresData: a red, a green and a blue square, each alone in its channel, on a
    black `image_size`² RGB image; where squares overlap their channels add up (e.g. yellow).

    Defaults as disent: square_size 8, image_size 64, grid_spacing = square_size, grid_size
    None (no cap), giving `(64 - 8) // 8 + 1 = 8` positions per axis, factors x_R, y_R, x_G, y_G,
    x_B, y_B of size 8 each and 8⁶ = 262,144 images. A square moved one grid step shares no pixel
    with where it was unless `grid_spacing < square_size` (why disent calls the default adversarial
    to pixel-wise losses). Positions per axis: `p = min((image_size - square_size) //
    grid_spacing + 1, grid_size)`; the grid is centred by `offset = (image_size - (square_size +
    (p - 1) * grid_spacing)) // 2`, and the square of channel c has its top-left corner at
    `offset + grid_spacing * (x_c, y_c)`.
    """

    square_size: int = 8
    image_size: int = 64
    grid_spacing: int | None = None
    grid_size: int | None = None

    name: ClassVar[str] = "xysquares"
    factor_names: ClassVar[tuple[str, ...]] = ("x_R", "y_R", "x_G", "y_G", "x_B", "y_B")

    def __post_init__(self):
        _check_positive(self.name, square_size=self.square_size, spacing=self.spacing)
        if self.grid_size is not None:
            _check_positive(self.name, grid_size=self.grid_size)
        if self.square_size > self.image_size:
            raise UserError(
                f"{self.name}: square_size must be at most image_size ({self.image_size}), got "
                f"{self.square_size}"
            )

    @property
    def spacing(self) -> int:
        """`grid_spacing`, or `square_size` when it is None."""
        return self.square_size if self.grid_spacing is None else self.grid_spacing

    @property
    def placements(self) -> int:
        placements = (self.image_size - self.square_size) // self.spacing + 1
        return placements if self.grid_size is None else min(placements, self.grid_size)

    @property
    def factor_sizes(self) -> tuple[int, ...]:
        return (self.placements,) * 6

    @property
    def observation_shape(self) -> tuple[int, int, int]:
        return self.image_size, self.image_size, 3

    def observations_from_factors(
        self, factors_NxK: jax.Array, rng: jax.Array | None = None
    ) -> jax.Array:
        """Float32 `[N, image_size, image_size, 3]` in {0, 1}: channel c is 1 on the square at
        `(x_c, y_c)`; pure and jittable (`rng` is unused)."""
        del rng
        self.check_factors(factors_NxK)
        factors = jnp.asarray(factors_NxK, dtype=jnp.int32)
        offset = (self.image_size - (self.square_size + (self.placements - 1) * self.spacing)) // 2
        corners = offset + self.spacing * factors.reshape(-1, 3, 2)
        draw = lambda x, y: square_mask(x, y, self.square_size, self.image_size)
        masks = jax.vmap(jax.vmap(draw))(corners[..., 0], corners[..., 1])
        return jnp.moveaxis(masks, 1, -1)
