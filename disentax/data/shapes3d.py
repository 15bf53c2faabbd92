"""A procedural stand-in for Shapes3D on its exact factor grid, ray-cast per pixel in pure JAX."""

import dataclasses
import functools
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from disentax.data.base import DATASETS, FactorGrid

HUES = np.linspace(0.0, 1.0, 10, endpoint=False, dtype=np.float32)
SCALES = np.linspace(0.75, 1.25, 8, dtype=np.float32)
SHAPES = ("cube", "cylinder", "sphere", "capsule")
ORIENTATIONS = np.linspace(-30.0, 30.0, 15, dtype=np.float32)  # degrees, as Shapes3D

ROOM_HALF_SIZE = 4.0  # the room is a square of side 8 turned 45°: a corner stands behind the object
CAMERA_DISTANCE = 3.0  # from the vertical axis through the object
CAMERA_HEIGHT = 1.6
LOOK_AT = (0.0, 0.45, 0.0)
FIELD_OF_VIEW = 55.0  # degrees, full angle across the image
LIGHT = np.array([-0.4, 1.0, 0.8], dtype=np.float32)
LIGHT /= np.linalg.norm(LIGHT)  # unit vector towards a directional light above, front left
AMBIENT = 0.45
FOG = 0.05  # brightness falls as exp(-FOG * distance)
SHADOW = 0.55  # brightness factor of floor points the object hides from the light
SATURATION = 0.8
CAPSULE_RADIUS = 0.3  # × scale; the capsule stands upright, 1.3 × scale tall
CAPSULE_HEIGHT = 1.3
# Unit vectors across the room's two pairs of walls (the room's axes, turned 45° about y).
WALL_AXES = np.array([[1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]], dtype=np.float32) / np.sqrt(2)
_EPS = 1e-9


def hsv_to_rgb(hue: jax.Array, saturation: jax.Array, value: jax.Array) -> jax.Array:
    """HSV in [0, 1] to RGB, `[..., 3]`; hue is periodic (1.0 is red again), as `colorsys`."""
    k = jnp.mod(jnp.array([5.0, 3.0, 1.0]) + 6.0 * jnp.asarray(hue)[..., None], 6.0)
    chroma = jnp.asarray(value * saturation)[..., None]
    return jnp.asarray(value)[..., None] - chroma * jnp.clip(jnp.minimum(k, 4.0 - k), 0.0, 1.0)


def _dot(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.sum(a * b, axis=-1)


def _nonzero(x: jax.Array) -> jax.Array:
    """`x` with values too close to zero to divide by replaced by a tiny positive number."""
    return jnp.where(jnp.abs(x) < _EPS, _EPS, x)


def _first(*hits: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
    """The nearest of several `(t, normal)` hits: the first hit on the union of the surfaces."""
    t = jnp.stack([h[0] for h in hits])
    normals = jnp.stack([jnp.broadcast_to(h[1], h[0].shape + (3,)) for h in hits])
    nearest = jnp.argmin(t, axis=0)
    return jnp.min(t, axis=0), jnp.take_along_axis(normals, nearest[None, ..., None], 0)[0]


def _sphere(o, d, height, radius):
    """Entry of the ray `o + t d` (`|d| = 1`) into the sphere centred at `(0, height, 0)`."""
    oc = o - jnp.stack([0.0, height, 0.0])
    b = _dot(oc, d)
    disc = b**2 - _dot(oc, oc) + radius**2
    t = -b - jnp.sqrt(jnp.maximum(disc, 0.0))
    t = jnp.where((disc >= 0) & (t > 0), t, jnp.inf)
    return t, (oc + t[..., None] * d) / radius


def _tube(o, d, radius, bottom, top):
    """Entry into the open vertical tube of `radius` about the y axis, `bottom <= y <= top`."""
    a = jnp.maximum(d[..., 0] ** 2 + d[..., 2] ** 2, _EPS)
    b = o[..., 0] * d[..., 0] + o[..., 2] * d[..., 2]
    disc = b**2 - a * (o[..., 0] ** 2 + o[..., 2] ** 2 - radius**2)
    t = (-b - jnp.sqrt(jnp.maximum(disc, 0.0))) / a
    p = o + t[..., None] * d
    hit = (disc >= 0) & (t > 0) & (p[..., 1] >= bottom) & (p[..., 1] <= top)
    return jnp.where(hit, t, jnp.inf), p * jnp.array([1.0, 0.0, 1.0]) / radius


def _lid(o, d, radius, height):
    """Hit on the horizontal disc of `radius` about the y axis at `height`, seen from above."""
    t = (height - o[..., 1]) / _nonzero(d[..., 1])
    p = o + t[..., None] * d
    hit = (t > 0) & (p[..., 0] ** 2 + p[..., 2] ** 2 <= radius**2)
    return jnp.where(hit, t, jnp.inf), jnp.array([0.0, 1.0, 0.0])


def _box(o, d, half):
    """Entry into the axis-aligned cube `[-half, half] × [0, 2 half] × [-half, half]` (slabs)."""
    inverse = 1.0 / _nonzero(d)
    t0 = (jnp.array([-1.0, 0.0, -1.0]) * half - o) * inverse
    t1 = (jnp.array([1.0, 2.0, 1.0]) * half - o) * inverse
    near = jnp.minimum(t0, t1)
    t_near, t_far = near.max(axis=-1), jnp.maximum(t0, t1).min(axis=-1)
    hit = (t_near <= t_far) & (t_near > 0)
    normal = -jnp.sign(d) * jax.nn.one_hot(jnp.argmax(near, axis=-1), 3)
    return jnp.where(hit, t_near, jnp.inf), normal


def _object(o, d, scale, shape):
    """`(t, normal)` of the ray's entry into the object (`t = inf` on a miss); all four shapes
    are intersected and `shape` (possibly traced) selects one."""
    r = scale / 2
    rc, top = CAPSULE_RADIUS * scale, (CAPSULE_HEIGHT - CAPSULE_RADIUS) * scale
    hits = (
        _box(o, d, r),
        _first(_tube(o, d, r, 0.0, scale), _lid(o, d, r, scale)),
        _sphere(o, d, r, r),
        _first(_tube(o, d, rc, rc, top), _sphere(o, d, rc, rc), _sphere(o, d, top, rc)),
    )
    return jnp.stack([h[0] for h in hits])[shape], jnp.stack([h[1] for h in hits])[shape]


def _room(o, d):
    """`(t, normal, is_floor)` where the ray leaves the room through the floor or a wall."""
    axes = jnp.asarray(WALL_AXES)
    d_k, o_k = d @ axes.T, o @ axes.T
    side = jnp.where(d_k >= 0, 1.0, -1.0)
    t_k = (side * ROOM_HALF_SIZE - o_k) / _nonzero(d_k)
    wall = jnp.argmin(t_k, axis=-1)
    t_wall = jnp.min(t_k, axis=-1)
    wall_normal = -jnp.take_along_axis(side, wall[..., None], -1) * axes[wall]
    t_floor = jnp.where(d[..., 1] < 0, -o[..., 1] / _nonzero(d[..., 1]), jnp.inf)
    is_floor = t_floor < t_wall
    normal = jnp.where(is_floor[..., None], jnp.array([0.0, 1.0, 0.0]), wall_normal)
    return jnp.minimum(t_floor, t_wall), normal, is_floor


def _camera(orientation, image_size):
    """Eye `[3]` and unit pixel rays `[H, W, 3]` of the camera orbiting by `orientation` degrees."""
    phi = jnp.deg2rad(orientation)
    eye = jnp.stack(
        [CAMERA_DISTANCE * jnp.sin(phi), jnp.asarray(CAMERA_HEIGHT), CAMERA_DISTANCE * jnp.cos(phi)]
    )
    forward = jnp.asarray(LOOK_AT) - eye
    forward = forward / jnp.linalg.norm(forward)
    right = jnp.cross(forward, jnp.array([0.0, 1.0, 0.0]))
    right = right / jnp.linalg.norm(right)
    up = jnp.cross(right, forward)
    span = np.tan(np.deg2rad(FIELD_OF_VIEW) / 2)
    ndc = ((np.arange(image_size, dtype=np.float32) + 0.5) / image_size * 2 - 1) * span
    rays = forward + ndc[None, :, None] * right - ndc[:, None, None] * up
    return eye, rays / jnp.linalg.norm(rays, axis=-1, keepdims=True)


def render(
    floor_hue: jax.Array,
    wall_hue: jax.Array,
    object_hue: jax.Array,
    scale: jax.Array,
    shape: jax.Array,
    orientation: jax.Array,
    *,
    image_size: int = 64,
) -> jax.Array:
    """One RGB image of an object in a room, float32 `[image_size, image_size, 3]` in [0, 1].

    Each pixel casts one ray from a pinhole camera (y up, `FIELD_OF_VIEW` across). The camera
    stands `CAMERA_DISTANCE` from the vertical axis through the object at `CAMERA_HEIGHT` and
    looks at `LOOK_AT`; `orientation` (degrees) orbits it about that axis, so the room's walls,
    their corner lines and the cube's faces turn in the image (the round shapes keep their outline).
    The room is a floor `y = 0` and four walls forming a square of half-size `ROOM_HALF_SIZE`
    turned 45°, so one wall corner stands behind the object and two walls are in view.

    The object stands at the origin (`shape` 0..3, possibly traced; all four are intersected
    and one is selected): a cube of side `scale`, faces square to the camera at orientation 0;
    a cylinder of diameter and height `scale`; a sphere of diameter `scale`; an upright capsule
    of radius `0.3 scale` and height `1.3 scale`.

    Surfaces are coloured `hsv(hue, SATURATION, brightness)` with the floor, wall and object
    hue; brightness is Lambertian for the fixed directional `LIGHT` (`AMBIENT` + the rest ×
    `max(n·l, 0)`), times `exp(-FOG * distance)`, times `SHADOW` on floor points whose ray to
    the light meets the object. Shading changes only brightness, so every pixel keeps the hue of
    its surface. The scene is not calibrated against Shapes3D's pixels.
    """
    surface, brightness = geometry(scale, shape, orientation, image_size=image_size)
    return shade(surface, brightness, floor_hue, wall_hue, object_hue)


def geometry(
    scale: jax.Array, shape: jax.Array, orientation: jax.Array, *, image_size: int = 64
) -> tuple[jax.Array, jax.Array]:
    """What each pixel sees, independent of the hues: surface `[H, W]` int8 (0 floor, 1 wall,
    2 object) and brightness `[H, W]` float32 (see `render`)."""
    eye, rays = _camera(orientation, image_size)
    t_room, n_room, is_floor = _room(eye, rays)
    t_object, n_object = _object(eye, rays, scale, shape)
    on_object = t_object < t_room
    floor_point = eye + t_room[..., None] * rays
    light = jnp.asarray(LIGHT)
    shadowed = is_floor & ~on_object & (_object(floor_point, light, scale, shape)[0] < jnp.inf)
    t = jnp.where(on_object, t_object, t_room)
    normal = jnp.where(on_object[..., None], n_object, n_room)
    brightness = AMBIENT + (1 - AMBIENT) * jnp.maximum(_dot(normal, light), 0.0)
    brightness = brightness * jnp.exp(-FOG * t) * jnp.where(shadowed, SHADOW, 1.0)
    surface = jnp.where(on_object, 2, jnp.where(is_floor, 0, 1)).astype(jnp.int8)
    return surface, brightness


def shade(surface, brightness, floor_hue, wall_hue, object_hue) -> jax.Array:
    """`hsv(hue of the pixel's surface, SATURATION, brightness)`, float32 `[H, W, 3]`."""
    hue = jnp.where(surface == 2, object_hue, jnp.where(surface == 0, floor_hue, wall_hue))
    return hsv_to_rgb(hue, SATURATION, brightness).astype(jnp.float32)


@functools.cache
def geometry_table() -> tuple[np.ndarray, np.ndarray]:
    """`geometry` of every (scale, shape, orientation) of the grid, `[8, 4, 15, 64, 64]` each:
    ray-traced once (about 0.3 s), after which an image costs one gather and an HSV conversion."""
    grid = np.stack(np.meshgrid(SCALES, np.arange(4), ORIENTATIONS, indexing="ij"), -1)
    scale, shape, angle = grid.reshape(-1, 3).T
    with jax.ensure_compile_time_eval():  # concrete even when first asked for inside a trace
        surface, brightness = jax.jit(jax.vmap(geometry))(scale, shape.astype(np.int32), angle)
    shape_ = (len(SCALES), 4, len(ORIENTATIONS), 64, 64)
    return np.asarray(surface).reshape(shape_), np.asarray(brightness).reshape(shape_)


@DATASETS.register("shapes3d_procedural")
@dataclasses.dataclass(frozen=True)
class ProceduralShapes3D(FactorGrid):
    """Shaded 64×64 RGB rooms with one object, on the Shapes3D factor grid (480,000 images).

    A procedural stand-in that reproduces Shapes3D's factors (their order, sizes and published
    values) but not its pixels: Shapes3D was rendered with MuJoCo and its generator was not
    released. See `render` for the scene.
    """

    name: ClassVar[str] = "shapes3d_procedural"
    factor_names: ClassVar[tuple[str, ...]] = (
        "floor_hue",
        "wall_hue",
        "object_hue",
        "scale",
        "shape",
        "orientation",
    )
    factor_sizes: ClassVar[tuple[int, ...]] = (10, 10, 10, 8, 4, 15)
    observation_shape: ClassVar[tuple[int, int, int]] = (64, 64, 3)

    def factor_values(self, factors_NxK: jax.Array) -> jax.Array:
        """Float32 `[N, 6]`: three hues in [0, 0.9], scale in [0.75, 1.25], shape index
        (0..3 = cube, cylinder, sphere, capsule), orientation in [-30, 30] degrees."""
        grids = (HUES, HUES, HUES, SCALES, np.arange(4, dtype=np.float32), ORIENTATIONS)
        return jnp.stack([jnp.asarray(g)[factors_NxK[:, k]] for k, g in enumerate(grids)], axis=1)

    def observations_from_factors(
        self, factors_NxK: jax.Array, rng: jax.Array | None = None
    ) -> jax.Array:
        """RGB images, float32 `[N, 64, 64, 3]` in [0, 1], equal to `render` of the factor
        values; pure and jittable (`rng` is unused). Reads the cached `geometry_table`."""
        del rng
        self.check_factors(factors_NxK)
        surfaces, brightnesses = geometry_table()
        scale, shape, angle = (factors_NxK[:, k] for k in (3, 4, 5))
        hues = jnp.asarray(HUES)[factors_NxK[:, :3]].T
        surface = jnp.asarray(surfaces)[scale, shape, angle]
        brightness = jnp.asarray(brightnesses)[scale, shape, angle]
        return jax.vmap(shade)(surface, brightness, *hues)
