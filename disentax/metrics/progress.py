"""Progress of the interventional metrics: a tqdm bar over the images a metric encodes, advanced
from the host or from inside its jitted sampling loops."""

import contextlib
import functools

import jax
from tqdm.auto import tqdm

_OPEN: list[tqdm] = []  # the bars of the metrics running now, innermost last


@contextlib.contextmanager
def images_bar(metric: str, total: int):
    """A bar "metric: i/total images" while the block runs, shown on a terminal of process 0
    only (tqdm's `disable=None`: off when stderr is not a TTY). Results computed in the block
    should be ready (`jax.block_until_ready`) before it ends: a jitted loop's steps advance the
    bar as they run, and a step after the block no longer finds it."""
    bar = tqdm(
        total=total,
        desc=metric,
        unit="img",
        unit_scale=True,
        leave=False,
        dynamic_ncols=True,
        disable=None if jax.process_index() == 0 else True,
    )
    _OPEN.append(bar)
    try:
        yield bar
    finally:
        _OPEN.remove(bar)
        bar.close()


def advance(num_images: int) -> None:
    """Advances the innermost open bar by `num_images` (a Python int); under `jit` or inside
    `lax.map`/`fori_loop` bodies through `jax.debug.callback`, once per executed step."""
    jax.debug.callback(functools.partial(_advance, num_images))


def _advance(num_images):
    if _OPEN:
        _OPEN[-1].update(num_images)
