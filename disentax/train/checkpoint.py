"""Orbax checkpoints of the train state: keep-last-N, async, and a fallback past corrupted ones."""

import logging
import pathlib
import shutil

import jax
import orbax.checkpoint as ocp

from disentax import interrupts

log = logging.getLogger(__name__)


class Checkpointer:
    """Saves and restores the train state under `directory` with an Orbax `CheckpointManager`.

    Restoring walks back from the newest step; a checkpoint that fails to restore (truncated,
    corrupted) is moved to `quarantine` (never deleted) with a warning and the previous is tried.
    """

    def __init__(self, directory: pathlib.Path, *, max_to_keep: int, async_save: bool = True):
        self.directory = pathlib.Path(directory).absolute()
        self.quarantine = self.directory.parent / "corrupted_checkpoints"
        self._options = ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep,
            enable_async_checkpointing=async_save,
            cleanup_tmp_directories=True,
            create=True,
        )
        self._manager = ocp.CheckpointManager(self.directory, options=self._options)

    def steps(self) -> list[int]:
        return list(self._manager.all_steps())

    def save(self, step: int, state) -> None:
        with interrupts.deferred():  # a stop lands after the write is started, not inside it
            self._manager.save(
                step, args=ocp.args.Composite(state=ocp.args.StandardSave(state)), force=True
            )

    def restore_latest(self, target):
        """The newest restorable state, laid out like `target` (shape, dtype, sharding), or None."""
        abstract = jax.tree.map(
            lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding), target
        )
        for step in sorted(self.steps(), reverse=True):
            try:
                restored = self._manager.restore(
                    step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract))
                )
                return restored["state"]
            except Exception as e:  # noqa: BLE001 - any failure means this checkpoint is unusable
                moved = self._set_aside(step)
                log.warning(
                    "checkpoint at step %d is unreadable (%s: %s); moved to %s, "
                    "trying the previous one",
                    step,
                    type(e).__name__,
                    str(e).splitlines()[0][:200] if str(e) else "",
                    moved,
                )
        return None

    def _set_aside(self, step: int) -> pathlib.Path:
        self._manager.close()
        self.quarantine.mkdir(parents=True, exist_ok=True)
        destination = self.quarantine / str(step)
        n = 1
        while destination.exists():
            destination, n = self.quarantine / f"{step}.{n}", n + 1
        shutil.move(self.directory / str(step), destination)
        self._manager = ocp.CheckpointManager(self.directory, options=self._options)
        return destination

    def wait(self) -> None:
        with interrupts.deferred():
            self._manager.wait_until_finished()

    def close(self) -> None:
        with interrupts.deferred():
            self._manager.wait_until_finished()
            self._manager.close()
