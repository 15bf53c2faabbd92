"""Image grids of reconstructions and latent traversals, written as PNG."""

import pathlib

import numpy as np
from PIL import Image


def image_grid(images_RxCxHxWxK: np.ndarray, pad: int = 2) -> np.ndarray:
    """Tiles `[rows, cols, H, W, C]` images in [0, 1] into one uint8 `[H', W', 3]` image."""
    images = np.clip(np.asarray(images_RxCxHxWxK, np.float32), 0.0, 1.0)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    rows, cols, h, w, _ = images.shape
    grid = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), np.float32)
    for r in range(rows):
        for c in range(cols):
            top, left = pad + r * (h + pad), pad + c * (w + pad)
            grid[top : top + h, left : left + w] = images[r, c]
    return (grid * 255).round().astype(np.uint8)


def save_png(path: pathlib.Path, image_HxWx3: np.ndarray, upscale: int = 2) -> None:
    """Writes a uint8 image, enlarged `upscale`× with nearest-neighbour so pixels stay sharp."""
    img = Image.fromarray(image_HxWx3)
    img.resize((img.width * upscale, img.height * upscale), Image.NEAREST).save(path)


def reconstruction_grid(x_NxHxWxC: np.ndarray, x_hat_NxHxWxC: np.ndarray) -> np.ndarray:
    """Originals on the top row, reconstructions below."""
    return image_grid(np.stack([x_NxHxWxC, x_hat_NxHxWxC]))
