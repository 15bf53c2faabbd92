"""How closely `dsprites_procedural` renders the real dSprites images: per-image IoU statistics."""

import pathlib

import jax
import numpy as np

from disentax.data import builders
from disentax.data.dsprites import SHAPES, ProceduralDSprites
from disentax.errors import UserError


def iou(a_NxP: np.ndarray, b_NxP: np.ndarray) -> np.ndarray:
    """Intersection over union of binary images `[N, P]`, `[N]`; 1 where both are empty."""
    a, b = a_NxP.astype(bool), b_NxP.astype(bool)
    union = (a | b).sum(axis=1)
    return np.where(union == 0, 1.0, (a & b).sum(axis=1) / np.maximum(union, 1))


def calibrate(
    npz_path, num: int | None = None, seed: int = 0, renderer: ProceduralDSprites | None = None
) -> dict:
    """Renders the factors of `num` random images (all when None) of a dSprites npz (`imgs` uint8
    `[N, 64, 64]`, `latents_classes` `[N, 6]`, colour first) with `renderer` and compares.

    Returns {"num", "mean_iou", "min_iou", "exact_match_rate", "per_shape": {shape: mean IoU}}.
    """
    path = pathlib.Path(npz_path).expanduser()
    if not path.is_file():
        raise UserError(
            f"{path}: no such file; get it from https://github.com/google-deepmind/dsprites-dataset"
        )
    renderer = renderer or ProceduralDSprites()
    classes = builders.npz_array(path, "latents_classes")
    shape, dtype = builders.npz_header(path, "imgs")
    builders.check_shape(path, "imgs", shape, dtype, (len(classes), 64, 64), np.uint8)
    if classes.ndim != 2 or classes.shape[1] != 6:
        raise UserError(f"{path}: latents_classes is {classes.shape}, expected (N, 6)")
    chosen = np.arange(len(classes))
    if num is not None and num < len(classes):
        chosen = np.sort(np.random.default_rng(seed).choice(len(classes), num, replace=False))
    factors = classes[chosen, 1:].astype(np.int32)
    render = jax.jit(renderer.observations_from_factors)
    scores, exact = [], []
    real_rows = builders.npz_rows(path, "imgs", chosen)
    for start in range(0, len(chosen), builders.CHUNK):
        batch = factors[start : start + builders.CHUNK]
        ours = np.asarray(render(batch)).reshape(len(batch), -1) > 0.5
        real = np.stack([next(real_rows) for _ in batch]).reshape(len(batch), -1) > 0
        scores.append(iou(ours, real))
        exact.append((ours == real).all(axis=1))
    scores, exact = np.concatenate(scores), np.concatenate(exact)
    return {
        "num": len(chosen),
        "mean_iou": float(scores.mean()),
        "min_iou": float(scores.min()),
        "exact_match_rate": float(exact.mean()),
        "per_shape": {
            name: float(scores[factors[:, 0] == k].mean())
            for k, name in enumerate(SHAPES)
            if (factors[:, 0] == k).any()
        },
    }
