"""Image grids of reconstructions and latent traversals, written as PNG and animated GIF."""

import pathlib

import numpy as np
from PIL import Image

MARK_RGB = (1.0, 0.0, 0.0)  # the frame of a marked (inactive) row or column


def image_grid(
    images_RxCxHxWxK: np.ndarray, pad: int = 2, row_marks=None, col_marks=None
) -> np.ndarray:
    """Tiles `[rows, cols, H, W, C]` images in [0, 1] into one uint8 `[H', W', 3]` image
    (`rows·(H + pad) + pad` by `cols·(W + pad) + pad`, white padding). The padding around the
    rows with `row_marks[r]` (columns with `col_marks[c]`) true is red."""
    images = np.clip(np.asarray(images_RxCxHxWxK, np.float32), 0.0, 1.0)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    rows, cols, h, w, _ = images.shape
    grid = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), np.float32)
    for r in np.flatnonzero(np.zeros(rows, bool) if row_marks is None else row_marks):
        grid[r * (h + pad) : (r + 1) * (h + pad) + pad] = MARK_RGB
    for c in np.flatnonzero(np.zeros(cols, bool) if col_marks is None else col_marks):
        grid[:, c * (w + pad) : (c + 1) * (w + pad) + pad] = MARK_RGB
    for r in range(rows):
        for c in range(cols):
            top, left = pad + r * (h + pad), pad + c * (w + pad)
            grid[top : top + h, left : left + w] = images[r, c]
    return (grid * 255).round().astype(np.uint8)


def upscaled(image_HxWx3: np.ndarray, upscale: int = 2) -> Image.Image:
    """A uint8 image enlarged `upscale`× with nearest-neighbour, so pixels stay sharp."""
    img = Image.fromarray(image_HxWx3)
    return img.resize((img.width * upscale, img.height * upscale), Image.NEAREST)


def save_png(path: pathlib.Path, image_HxWx3: np.ndarray, upscale: int = 2) -> None:
    """Writes a uint8 image, enlarged `upscale`× (`upscaled`)."""
    upscaled(image_HxWx3, upscale).save(path)


def save_gif(
    path: pathlib.Path, frames: list[np.ndarray], upscale: int = 2, frame_ms: int = 120
) -> None:
    """Writes uint8 frames `[H, W, 3]` as an endlessly looping animated GIF."""
    images = [upscaled(f, upscale) for f in frames]
    images[0].save(
        path, save_all=True, append_images=images[1:], duration=frame_ms, loop=0, optimize=False
    )


def reconstruction_grid(x_NxHxWxC: np.ndarray, x_hat_NxHxWxC: np.ndarray) -> np.ndarray:
    """Originals on the top row, reconstructions below."""
    return image_grid(np.stack([x_NxHxWxC, x_hat_NxHxWxC]))
