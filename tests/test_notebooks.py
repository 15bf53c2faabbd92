"""The notebooks run top to bottom with small settings (their `parameters` cell replaced)."""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = pathlib.Path(__file__).parent.parent / "notebooks"
TMP = "<tmp_path>"  # replaced by the test's temporary directory

# Notebook -> the values its `parameters` cell gets in the test.
PARAMETERS = {
    "quickstart.ipynb": {
        "CONFIG": "beta_vae:tiny",
        "OVERRIDES": ["eval.metrics=mig", "eval.representations=mean"],
        "NUM_STEPS": 4,
        "WORKDIR": f"{TMP}/run",
        "NUM_SAMPLES": 200,
    },
    "be_more_active.ipynb": {
        "WORKDIR": f"{TMP}/run",
        "SWEEP": "smoke",
        "NUM_SAMPLES": 200,
        "NUM_TEST": 100,
        "CROSS_VALIDATE": False,
    },
}


def with_parameters(notebook, values: dict, tmp_path: pathlib.Path):
    """`notebook` with its cell tagged `parameters` replaced by assignments of `values`."""
    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "a notebook under test needs exactly one cell tagged 'parameters'"
    resolved = {
        k: v.replace(TMP, str(tmp_path)) if isinstance(v, str) else v for k, v in values.items()
    }
    cells[0].source = "\n".join(f"{k} = {v!r}" for k, v in resolved.items())
    return notebook


def test_every_notebook_is_exercised():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(PARAMETERS)


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_notebook_runs(name, tmp_path):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in notebook.cells:  # analysis only: the library is imported, never defined here
        assert cell.cell_type != "code" or not any(
            line.lstrip().startswith(("def ", "class ")) for line in cell.source.splitlines()
        )
    notebook = with_parameters(notebook, PARAMETERS[name], tmp_path)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
