"""Orbax checkpoints of the train state with the config that made it: keep-last-N, async, and a
fallback past corrupted ones that tells them from checkpoints of another run."""

import logging
import pathlib
import shutil
from collections.abc import Callable, Mapping

import jax
import orbax.checkpoint as ocp

from disentax import interrupts
from disentax.errors import UserError

log = logging.getLogger(__name__)

STATE_ITEM = "state"
CONFIG_ITEM = "config"

# What a stored config differs in from the run restoring it (dotted field names); [] if nothing.
ConfigCheck = Callable[[Mapping], list[str]]


class CheckpointMismatch(UserError):
    """A readable checkpoint of another run: its stored config, or its state's tree or array
    shapes, differ from what is being restored. Not corruption: nothing is moved."""

    def __init__(self, path: pathlib.Path, differences: list[str]):
        self.path, self.differences = path, differences
        super().__init__(
            f"checkpoint {path} was saved by a run of another config (differs in "
            f"{', '.join(differences[:5])}); move it aside or use another --workdir"
        )


class Checkpointer:
    """Saves and restores the train state under `directory` with an Orbax `CheckpointManager`;
    each checkpoint holds the items `state` (`StandardSave`) and, where `config` is given, that
    JSON record of the run's config (`JsonSave`), so a checkpoint says which run it belongs to
    even without the workdir's `config.json`.

    Restoring walks back from the newest step. A checkpoint of another run (`CheckpointMismatch`:
    its stored config or its state's tree and shapes differ) is refused with a one-line error
    and left in place; one that cannot be read (truncated, corrupted) is moved to `quarantine`
    (never deleted) with a warning and the previous is tried. `read_only` opens an existing
    directory only to look (`newest_differences`): nothing is created or cleaned up.
    """

    def __init__(
        self,
        directory: pathlib.Path,
        *,
        max_to_keep: int,
        async_save: bool = True,
        config: Mapping | None = None,
        read_only: bool = False,
    ):
        self.directory = pathlib.Path(directory).absolute()
        self.quarantine = self.directory.parent / "corrupted_checkpoints"
        self.config = config
        self._options = ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep,
            enable_async_checkpointing=async_save,
            cleanup_tmp_directories=not read_only,
            create=not read_only,
        )
        self._manager = self._open()

    def _open(self) -> ocp.CheckpointManager:
        handlers = {
            STATE_ITEM: ocp.StandardCheckpointHandler(),
            CONFIG_ITEM: ocp.JsonCheckpointHandler(),
        }
        return ocp.CheckpointManager(self.directory, options=self._options, item_handlers=handlers)

    def steps(self) -> list[int]:
        return list(self._manager.all_steps())

    def save(self, step: int, state) -> None:
        items = {STATE_ITEM: ocp.args.StandardSave(state)}
        if self.config is not None:
            items[CONFIG_ITEM] = ocp.args.JsonSave(self.config)
        with interrupts.deferred():  # a stop lands after the write is started, not inside it
            self._manager.save(step, args=ocp.args.Composite(**items), force=True)

    def differences(self, step: int, target, check: ConfigCheck | None = None) -> list[str]:
        """What checkpoint `step` differs in from a run with state like `target` (arrays or
        `ShapeDtypeStruct`s): `check` of its stored config, where it stores one (checkpoints
        written before configs were stored hold none), then its state's tree and array shapes
        and dtypes. [] when it is this run's; raises when it cannot be read."""
        if check is not None and CONFIG_ITEM in self._manager.metadata(step).item_handlers:
            stored = self._manager.restore(
                step, args=ocp.args.Composite(**{CONFIG_ITEM: ocp.args.JsonRestore()})
            )[CONFIG_ITEM]
            found = check(stored)
            if found:
                return found
        return tree_differences(self._manager.item_metadata(step)[STATE_ITEM].tree, target)

    def newest_differences(self, target, check: ConfigCheck | None = None) -> list[str]:
        """`differences` of the newest checkpoint that can be read ([] when there is none);
        unreadable ones are passed over here and quarantined by `restore_latest`."""
        for step in sorted(self.steps(), reverse=True):
            try:
                return self.differences(step, target, check)
            except Exception:  # noqa: BLE001, S112 - unreadable: restore_latest's business
                continue
        return []

    def restore_latest(self, target, check: ConfigCheck | None = None):
        """The newest restorable state, laid out like `target` (shape, dtype, sharding), or None;
        a `CheckpointMismatch` when the newest readable one is of another run (`differences`)."""
        abstract = jax.tree.map(
            lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding), target
        )
        for step in sorted(self.steps(), reverse=True):
            try:
                differences = self.differences(step, abstract, check)
                if not differences:
                    restored = self._manager.restore(
                        step,
                        args=ocp.args.Composite(**{STATE_ITEM: ocp.args.StandardRestore(abstract)}),
                    )
                    return restored[STATE_ITEM]
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
                continue
            raise CheckpointMismatch(self.directory / str(step), differences)
        return None

    def _set_aside(self, step: int) -> pathlib.Path:
        self._manager.close()
        self.quarantine.mkdir(parents=True, exist_ok=True)
        destination = self.quarantine / str(step)
        n = 1
        while destination.exists():
            destination, n = self.quarantine / f"{step}.{n}", n + 1
        shutil.move(self.directory / str(step), destination)
        self._manager = self._open()
        return destination

    def wait(self) -> None:
        with interrupts.deferred():
            self._manager.wait_until_finished()

    def close(self) -> None:
        with interrupts.deferred():
            self._manager.wait_until_finished()
            self._manager.close()


def key_names(path) -> tuple[str, ...]:
    """A leaf's key path as the names Orbax stores it under: attribute and namedtuple field
    names, dict keys, sequence indices as strings."""
    return tuple(str(getattr(k, "name", getattr(k, "key", getattr(k, "idx", k)))) for k in path)


def tree_differences(saved, target) -> list[str]:
    """How a saved state's tree metadata (`ArrayMetadata` leaves) differs from `target`'s
    layout: paths missing on either side, arrays of another shape or dtype (the first few)."""
    have = {tuple(map(str, k)): v for k, v in ocp.tree.to_flat_dict(saved).items()}
    want = {key_names(path): leaf for path, leaf in jax.tree_util.tree_flatten_with_path(target)[0]}
    missing = [".".join(k) for k in want if k not in have]
    extra = [".".join(k) for k in have if k not in want]
    if missing or extra:
        names = ", ".join((missing + extra)[:3])
        return [f"the saved state's tree ({len(missing) + len(extra)} paths differ: {names})"]
    changed = [
        f"{'.'.join(k)} saved {tuple(have[k].shape)} {have[k].dtype}, here "
        f"{tuple(want[k].shape)} {want[k].dtype}"
        for k in sorted(want, key=lambda k: "params" not in k)  # parameters first
        if (tuple(have[k].shape), have[k].dtype) != (tuple(want[k].shape), want[k].dtype)
    ]
    if changed:
        return [f"the saved state's array shapes ({len(changed)} differ: {'; '.join(changed[:2])})"]
    return []
