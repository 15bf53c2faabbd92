"""Scalar logging to TensorBoard event files under hierarchical names (`train/loss/kl`)."""

import pathlib

import jax
from tensorboardX import SummaryWriter


class ScalarWriter:
    """Writes `{name: float}` dicts at a step to TensorBoard event files in `logdir`.

    Only process 0 writes; on the other hosts of a multi-host run it does nothing.
    """

    def __init__(self, logdir: pathlib.Path):
        is_writer = jax.process_index() == 0
        self._writer = SummaryWriter(str(logdir), flush_secs=30) if is_writer else None

    def write(self, step: int, scalars: dict[str, float]) -> None:
        if self._writer is None:
            return
        for name, value in scalars.items():
            self._writer.add_scalar(name, float(value), global_step=step)

    def write_images(self, step: int, images: dict) -> None:
        """Writes `{name: uint8 [H, W, 3]}` images at a step."""
        if self._writer is None:
            return
        for name, image in images.items():
            self._writer.add_image(name, image, global_step=step, dataformats="HWC")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
