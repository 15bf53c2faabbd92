"""A procedural stand-in for dSprites on its exact factor grid, rendered in pure JAX."""

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from disentax.data.base import DATASETS, FactorGrid

SHAPES = ("square", "ellipse", "heart")
SCALES = np.linspace(0.5, 1.0, 6, dtype=np.float32)
ORIENTATIONS = np.linspace(0.0, 2 * np.pi, 40).astype(np.float32)  # both endpoints, as dSprites
POSITIONS = np.linspace(0.0, 1.0, 32, dtype=np.float32)
ELLIPSE_ASPECT = 2.0  # major / minor axis; the major axis is the square's side


def _heart_frame(resolution: int = 2001) -> tuple[float, float, float]:
    """(extent, x0, y0) of the implicit heart (x² + y² − 1)³ − x²y³ ≤ 0 (y up): its larger
    extent and its area centroid, measured once on a fine grid."""
    axis = np.linspace(-1.5, 1.5, resolution)
    x, y = np.meshgrid(axis, axis)
    inside = (x**2 + y**2 - 1) ** 3 - x**2 * y**3 <= 0
    extent = max(np.ptp(x[inside]), np.ptp(y[inside]))
    return float(extent), float(x[inside].mean()), float(y[inside].mean())


HEART_EXTENT, HEART_X0, HEART_Y0 = _heart_frame()


def inside_heart(u: jax.Array, v: jax.Array) -> jax.Array:
    """(x² + y² − 1)³ − x²y³ ≤ 0 with x = E·u + x0, y = y0 − E·v: the implicit heart (lobes up
    in the image, v pointing down), area centroid at the origin, larger extent 1 in (u, v)."""
    x = HEART_EXTENT * u + HEART_X0
    y = HEART_Y0 - HEART_EXTENT * v
    return (x**2 + y**2 - 1) ** 3 - x**2 * y**3 <= 0


def render(
    shape: jax.Array,
    scale: jax.Array,
    orientation: jax.Array,
    pos_x: jax.Array,
    pos_y: jax.Array,
    *,
    image_size: int = 64,
    base_size: float = 0.25,
    margin: float = 0.125,
) -> jax.Array:
    """One binary sprite, float32 `[image_size, image_size]` in {0, 1}; jittable and vmappable.

    In canvas units ([0, 1]², x right, y down) the sprite's centre is
    `c = margin + pos * (1 - 2 * margin)` and its size is `s = base_size * scale`. Pixel (i, j)
    is on when its centre `p = ((j + 0.5) / W, (i + 0.5) / H)` falls inside the sprite turned by
    `orientation` radians about `c` (clockwise on screen, as Love2D's rotate). With
    `(u, v) = R(-orientation) (p - c)` the shapes (`shape` = 0, 1, 2) are:
    square `max(|u|, |v|) <= s/2`; ellipse `(u / (s/2))² + (v / (s/4))² <= 1` (aspect 2:1, major
    axis along x); heart, the implicit heart `inside_heart(u / s, v / s)` (larger extent s, area
    centroid at c).
    `shape` may be traced: all three masks are computed and one is selected.

    `base_size` and `margin` default to values that make sprites look like dSprites (a scale-1
    square is 16 of 64 pixels wide and stays inside the canvas unrotated); they are not
    calibrated against the real file.
    """
    s = base_size * scale
    cx = margin + pos_x * (1 - 2 * margin)
    cy = margin + pos_y * (1 - 2 * margin)
    centres = (jnp.arange(image_size, dtype=jnp.float32) + 0.5) / image_size
    dx, dy = centres[None, :] - cx, centres[:, None] - cy
    theta = jnp.mod(orientation, 2 * jnp.pi)  # orientation 2π renders exactly as 0
    cos, sin = jnp.cos(theta), jnp.sin(theta)
    u, v = cos * dx + sin * dy, -sin * dx + cos * dy
    square = jnp.maximum(jnp.abs(u), jnp.abs(v)) <= s / 2
    ellipse = (u / (s / 2)) ** 2 + (v * ELLIPSE_ASPECT / (s / 2)) ** 2 <= 1
    heart = inside_heart(u / s, v / s)
    return jnp.stack([square, ellipse, heart])[shape].astype(jnp.float32)


@DATASETS.register("dsprites_procedural")
@dataclasses.dataclass(frozen=True)
class ProceduralDSprites(FactorGrid):
    """Binary 64×64 square/ellipse/heart sprites on the dSprites factor grid (737,280 images).

    A procedural stand-in, not the real data: see `render` for the geometry and its options.

    Orientation is identifiable only up to each shape's symmetry, as in dSprites: θ and θ + 90°
    render alike for a square, θ and θ + 180° for an ellipse, and only θ and θ + 360° for a heart
    (orientation indices 0 and 39 are 0 and 2π: the same image for every shape).
    """

    base_size: float = 0.25
    margin: float = 0.125

    name: ClassVar[str] = "dsprites_procedural"
    factor_names: ClassVar[tuple[str, ...]] = ("shape", "scale", "orientation", "pos_x", "pos_y")
    factor_sizes: ClassVar[tuple[int, ...]] = (3, 6, 40, 32, 32)
    observation_shape: ClassVar[tuple[int, int, int]] = (64, 64, 1)

    def factor_values(self, factors_NxK: jax.Array) -> jax.Array:
        """Float32 `[N, 5]`: shape index (0, 1, 2), scale, orientation (rad), pos_x, pos_y."""
        grids = (np.arange(3, dtype=np.float32), SCALES, ORIENTATIONS, POSITIONS, POSITIONS)
        return jnp.stack([jnp.asarray(g)[factors_NxK[:, k]] for k, g in enumerate(grids)], axis=1)

    def observations_from_factors(
        self, factors_NxK: jax.Array, rng: jax.Array | None = None
    ) -> jax.Array:
        """Binary images, float32 `[N, 64, 64, 1]`; pure and jittable (`rng` is unused)."""
        del rng
        self.check_factors(factors_NxK)
        values = self.factor_values(factors_NxK)
        draw = lambda shape, scale, angle, x, y: render(
            shape, scale, angle, x, y, base_size=self.base_size, margin=self.margin
        )
        shapes = jnp.asarray(factors_NxK[:, 0], dtype=jnp.int32)
        return jax.vmap(draw)(shapes, *values[:, 1:].T)[..., None]
