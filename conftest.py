"""Settings of every test session, whichever folders it collects (`tests/`, the paper packages in
`experiments/`): a shared XLA compilation cache, the number of xdist workers, and the hand-run
tests left out of the suite."""

import os
import tempfile

import jax
import pytest

# Run by hand, by path: 7 tiny FC VAEs for 20,000 steps, about 22 minutes on 2 cores.
collect_ignore = ["experiments/p03_be_more_active/test_longer_training.py"]

# One persistent compilation cache per test session, shared with the subprocesses tests start:
# many tests compile the same tiny programs (a model's init, its step); XLA compiles each once.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", tempfile.mkdtemp(prefix="disentax-xla-cache-"))
jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config):
    """`-n auto` (pyproject's addopts): one worker per CPU this process may use, at most
    `MAX_WORKERS` (each holds its own XLA programs, ~1-2 GB); `PYTEST_XDIST_AUTO_NUM_WORKERS`
    overrides. psutil's count, xdist's default, ignores CPU affinity (container limits);
    where the OS has no affinity (macOS), every CPU counts."""
    requested = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS")
    if requested:
        if not requested.isdigit() or int(requested) < 1:
            raise pytest.UsageError(
                f"PYTEST_XDIST_AUTO_NUM_WORKERS must be a positive integer, got {requested!r}"
            )
        return int(requested)
    if hasattr(os, "sched_getaffinity"):
        usable = len(os.sched_getaffinity(0))
    else:
        usable = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, usable))
