"""`disentax.provenance`: the versions and commit a results file records."""

import subprocess

import jax

from disentax.provenance import ROOT, commit, provenance, versions


def test_versions_are_the_installed_ones_and_none_for_a_missing_package():
    found = versions(("jax", "no-such-package-xyz"))
    assert found == {"jax": jax.__version__, "no-such-package-xyz": None}


def test_the_commit_is_head_marked_when_tracked_files_changed(tmp_path):
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert commit().removesuffix("+dirty") == head
    assert commit(tmp_path) is None  # not a checkout
    record = provenance(("jax",))
    assert record["backend"] == jax.default_backend()
    assert record["devices"] == [str(d) for d in jax.devices()]
