"""What produced a result: package versions, Python, the JAX backend and devices, the commit.

Every experiment's `main.py` stores `provenance()` beside its numbers, so a results file says which
code and which versions made it."""

import platform
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import jax

PACKAGES = (
    "disentax",
    "jax",
    "jaxlib",
    "flax",
    "optax",
    "orbax-checkpoint",
    "numpy",
    "scipy",
    "scikit-learn",
)
ROOT = Path(__file__).resolve().parents[1]


def versions(packages: Sequence[str] = PACKAGES) -> dict[str, str | None]:
    """{package: installed version, or None when it is not installed}."""
    found = {}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def commit(root: Path = ROOT) -> str | None:
    """The checkout's `git rev-parse HEAD`, with `+dirty` when tracked files have changes; None
    outside a git checkout."""

    def git(*args) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        head = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def provenance(packages: Sequence[str] = PACKAGES) -> dict:
    """{"versions", "python", "backend", "devices", "commit"} of this process and checkout."""
    return {
        "versions": versions(packages),
        "python": platform.python_version(),
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "commit": commit(),
    }
