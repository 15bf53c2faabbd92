"""Stopping a run on SIGINT or SIGTERM between steps, never inside a checkpoint write.

Python runs signal handlers in the main thread between bytecodes, so a plain Ctrl-C or `kill`
can land inside Orbax while it waits on its save threads, which then log the interruption as a
failed save. Under `handled()` both signals raise (`KeyboardInterrupt`, `Terminated`), except
inside `deferred()` sections (the checkpoint writes), where the signal is held and raised as soon
as the section ends.
"""

import contextlib
import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_held: list[int] = []  # signals received inside a deferred section, not yet raised
_depth = 0  # nesting depth of deferred sections


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler's stop, `kill`): the run stops as on Ctrl-C."""


def _exception(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _handler(signum, frame):
    if _depth:
        _held.append(signum)
        return
    raise _exception(signum)


@contextlib.contextmanager
def handled():
    """SIGINT and SIGTERM raise `KeyboardInterrupt` / `Terminated` (held inside `deferred()`)
    while the block runs; the previous handlers come back after it. Only the main thread can
    install handlers; elsewhere the block runs unchanged."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _handler) for s in SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        _held.clear()


@contextlib.contextmanager
def deferred():
    """A section no stop may interrupt: a signal that arrives inside it is raised when the
    outermost section ends (and dropped if the section ends by an exception of its own)."""
    global _depth
    _depth += 1
    try:
        yield
    except BaseException:
        _depth -= 1
        if not _depth:
            _held.clear()
        raise
    _depth -= 1
    if not _depth and _held:
        signum = _held[0]
        _held.clear()
        raise _exception(signum)
