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

# The slowest test files, slowest first (measured in the suite on 2 cores), start first: with
# `--dist loadfile` a file runs whole on one worker, and xdist's default order (files with the
# most tests first) left these few-test files for last, one worker busy for minutes while the
# other had nothing left. pyproject's `--no-loadscope-reorder` keeps this order; the short
# files fill in behind them.
SLOW_FILES = (
    "tests/objectives/test_objective_contract_qlae.py",
    "experiments/p02_qlae/test_p02_qlae_run.py",
    "tests/models/test_dlib.py",
    "tests/train/test_loop.py",
    "experiments/p03_be_more_active/test_p03_be_more_active.py",
    "tests/train/test_gan_training.py",
    "tests/objectives/test_objective_contract.py",
    "tests/train/test_workdir.py",
    "tests/metrics/test_factor_vae_score.py",
    "tests/experiments/test_configs.py",
    "tests/test_cli.py",
    "tests/data/test_shapes3d.py",
    "tests/metrics/test_explicitness.py",
    "tests/metrics/test_suite.py",
    "tests/metrics/test_inputs.py",
    "tests/data/test_pairs.py",
    "tests/metrics/test_sap.py",
    "tests/data/test_dsprites.py",
    "tests/objectives/test_vae_family.py",
    "tests/train/test_interventional_sizes.py",
    "experiments/p02_qlae/test_p02_qlae.py",
)


def pytest_collection_modifyitems(config, items):
    """`SLOW_FILES` first, in its order; every file's tests, and the other files, keep their
    collection order (a stable sort, the same on every xdist worker)."""
    rank = {path: i for i, path in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(SLOW_FILES)))


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
