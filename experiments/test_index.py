"""The index (`README.md`) and the paper packages in step: one row per seed paper P01..P57, each
`p<NN>_<slug>` package in its row and each row's package on disk; every paper's README has the
fixed sections in order and its config builds the settings `smoke`, `cpu` and `paper`."""

import importlib
import pathlib
import re

import pytest

from disentax.train import build

EXPERIMENTS = pathlib.Path(__file__).resolve().parent
PAPERS = sorted(p.name for p in EXPERIMENTS.glob("p[0-9][0-9]_*") if p.is_dir())
SECTIONS = ["Paper", "Claim", "Setting here", "Result", "Verdict", "Deviations", "Run"]
SETTINGS = ("smoke", "cpu", "paper")


def index_rows() -> dict[str, str]:
    """{paper id: its package cell} of the index table."""
    text = (EXPERIMENTS / "README.md").read_text()
    return dict(re.findall(r"^\| (P\d\d) \| [^|]+ \| ([^|]+?) \|", text, re.M))


def test_the_index_has_one_row_per_seed_paper_in_order():
    assert list(index_rows()) == [f"P{n:02d}" for n in range(1, 58)]


def test_every_paper_package_has_its_row_and_every_row_its_package():
    listed = {pid: cell.strip("`") for pid, cell in index_rows().items() if cell != "—"}
    assert sorted(set(listed.values())) == PAPERS
    for pid, package in listed.items():
        # named by its paper, or a companion paper's package that names it in its README
        # (P27's claim is tested in p45_local_interaction_basis)
        own = package.startswith(f"p{pid[1:]}_")
        assert own or pid in (EXPERIMENTS / package / "README.md").read_text(), (pid, package)


@pytest.mark.parametrize("package", PAPERS)
def test_the_readme_has_the_fixed_sections_in_order_and_is_about_a_screen(package):
    text = (EXPERIMENTS / package / "README.md").read_text()
    assert re.findall(r"^## (.+)$", text, re.M) == SECTIONS
    assert len(text.splitlines()) <= 90
    assert (EXPERIMENTS / package / "NOTES.md").is_file()


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("package", PAPERS)
def test_the_config_builds_each_setting(package, setting):
    config = importlib.import_module(f"experiments.{package}.config").get_config(setting)
    run = build(config)
    assert run.config is config
