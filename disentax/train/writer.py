"""Scalar logging to TensorBoard event files under hierarchical names (`train/loss/kl`)."""

import pathlib

from tensorboardX import SummaryWriter


class ScalarWriter:
    """Writes `{name: float}` dicts at a step to TensorBoard event files in `logdir`."""

    def __init__(self, logdir: pathlib.Path):
        self._writer = SummaryWriter(str(logdir), flush_secs=30)

    def write(self, step: int, scalars: dict[str, float]) -> None:
        for name, value in scalars.items():
            self._writer.add_scalar(name, float(value), global_step=step)

    def close(self) -> None:
        self._writer.close()
