"""A workdir's owner: one lock file, so that two commands never write into one workdir at once."""

import contextlib
import datetime
import errno
import json
import logging
import os
import pathlib
import socket
import time

import jax

from disentax.errors import UserError

log = logging.getLogger(__name__)

LOCK_FILE = "disentax.lock"
_held: dict[pathlib.Path, int] = {}  # lock files this process holds, and how deeply nested


@contextlib.contextmanager
def workdir_lock(workdir: str | pathlib.Path, command: str, *, create: bool = True):
    """Holds `workdir/disentax.lock` for `command` (what runs, as a refusal names it: "a
    training", "a sweep", "an evaluation") while the body runs, and removes it afterwards, also
    on an exception or KeyboardInterrupt.

    The lock file is created atomically (`O_CREAT | O_EXCL`, atomic on local disks and NFSv3+)
    and names its owner (pid, host, since when, command). A workdir another live command holds
    is refused at once with a one-line `UserError` naming that command, before anything in the
    workdir is touched. A lock whose pid is dead on this host is stale (the run was killed): it
    is taken over with a warning. A lock of another host cannot be checked from here; the error
    names the file to remove if that run is gone. Nested holds in one process (a sweep's
    populations, `evaluate` restoring) just nest.

    Multi-host runs: only process 0 writes into the shared workdir, so only process 0 takes the
    lock; the other hosts of the same run go on (they must not refuse because their own process 0
    holds it). `create=False` (commands that only use an existing run) creates no missing
    workdir and takes no lock in one; they then fail on the missing run.
    """
    workdir = pathlib.Path(workdir)
    check_directory(workdir)
    if jax.process_index() != 0 or (not create and not workdir.is_dir()):
        yield
        return
    path = (workdir / LOCK_FILE).absolute()
    if path in _held:
        _held[path] += 1
    else:
        acquire(path, command)
        _held[path] = 1
    try:
        yield
    finally:
        _held[path] -= 1
        if not _held[path]:
            del _held[path]
            release(path)


def check_directory(workdir: pathlib.Path) -> None:
    """A one-line `UserError` when `workdir`, or a folder it would be created in, is a file."""
    for path in (workdir, *workdir.parents):
        if path.exists() and not path.is_dir():
            where = "" if path == workdir else f" is inside {str(path)!r}, which"
            raise UserError(f"workdir {str(workdir)!r}{where} is a file; name a directory")


def owner() -> dict:
    """This process as a lock file records it."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.datetime.now().isoformat(sep=" ", timespec="seconds"),
    }


def acquire(path: pathlib.Path, command: str) -> None:
    """Creates the lock file `path` for `command`, taking over a stale one; a live one, or a
    workdir that cannot be created or written, is a one-line `UserError`."""
    workdir = path.parent
    mine = {**owner(), "command": command}
    while True:
        try:
            workdir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = read(path)
            if holder is None:  # removed meanwhile: try again
                continue
            if not stale(holder):
                raise UserError(f"{workdir} is in use by {describe(holder, path)}") from None
            take_over(path, holder)
            continue
        except OSError as e:
            raise UserError(
                f"cannot write in workdir {str(workdir)!r} ({e.strerror}: {e.filename}); "
                f"{command} writes there, so name a writable directory"
            ) from None
        with os.fdopen(fd, "w") as f:
            json.dump(mine, f)
        return


def read(path: pathlib.Path) -> dict | None:
    """The owner a lock file names; None if it is gone. A file still being written (empty) is
    read again for up to a second; after that it counts as an unknown owner."""
    for _ in range(10):
        try:
            text = path.read_text()
        except FileNotFoundError:
            return None
        try:
            holder = json.loads(text)
            if isinstance(holder, dict):
                return holder
        except ValueError:
            pass
        time.sleep(0.1)
    return {"unreadable": text[:100]}


def stale(holder: dict) -> bool:
    """Whether the lock's owner is certainly gone: on this host, and its pid no longer alive (or
    this very process, which does not hold it)."""
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    if holder["pid"] == os.getpid():
        return True
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def describe(holder: dict, path: pathlib.Path) -> str:
    """The owner in words, for the refusal."""
    if "unreadable" in holder:
        return f"an unknown run ({path} names none); if no run uses it, remove that file"
    text = (
        f"{holder.get('command', 'a run')} (pid {holder.get('pid')} on host {holder.get('host')}, "
        f"since {holder.get('since')}); wait for it to end or use another --workdir"
    )
    if holder.get("host") != socket.gethostname():
        text += f"; if that run is gone, remove {path}"
    return text


def take_over(path: pathlib.Path, holder: dict) -> None:
    """Removes the stale lock `path` whose owner was `holder`, with a warning. It is first
    renamed (atomic): should another process have replaced it meanwhile, that lock goes back."""
    aside = path.with_name(f"{path.name}.stale-{os.getpid()}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:  # another process took it over first
        return
    if read(aside) != holder:  # a fresh lock of a racing process: put it back
        try:
            os.link(aside, path)
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise
        os.unlink(aside)
        return
    os.unlink(aside)
    log.warning(
        "%s: took over the lock of %s (pid %s on host %s, since %s), which is no longer running",
        path.parent,
        holder.get("command", "a run"),
        holder.get("pid"),
        holder.get("host"),
        holder.get("since"),
    )


def release(path: pathlib.Path) -> None:
    """Removes the lock file if this process still owns it."""
    holder = read(path)
    if holder and holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
        path.unlink()
