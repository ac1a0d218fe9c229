import json
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPOSITORY = Path(__file__).resolve().parents[1]
NOTEBOOK = REPOSITORY / "examples" / "quickstart.ipynb"


def test_quickstart_notebook_runs_top_to_bottom(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    parameters.source = "SUBSET = 800\nEPOCHS = 1"
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "".join(str(output) for cell in notebook.cells for output in cell.get("outputs", []))
    assert "mnist_convnet" in outputs and "predicted digits" in outputs
    assert "image/png" in outputs  # the report's plots are shown
    assert (tmp_path / "saved_models" / "mnist_convnet" / "1" / "saved_model.pb").exists()
    assert list((tmp_path / "runs" / "tabular_classifier").glob("*/report.json"))


INSTALL_PROBE = textwrap.dedent("""
    import json, subprocess, sys
    calls = []
    subprocess.check_call = lambda command, **kwargs: calls.append(command)
    exec(sys.stdin.read())
    print(json.dumps(calls))
""")


def install_cell_calls(cwd: Path) -> list[list[str]]:
    """Run the notebook's install cell in a fresh Python that has no site-packages (kdl not
    installed), in `cwd`, with pip replaced by a recorder; the pip commands it would run."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in notebook.cells if c.cell_type == "code" and "pip" in c.source)
    done = subprocess.run([sys.executable, "-S", "-c", INSTALL_PROBE], input=cell.source,
                          cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_install_cell_installs_a_repository_cloned_as_a_kdl_subfolder(tmp_path):
    (tmp_path / "kdl").symlink_to(REPOSITORY, target_is_directory=True)  # a namespace "kdl"
    calls = install_cell_calls(tmp_path)
    assert len(calls) == 1 and calls[0][1:4] == ["-m", "pip", "install"]
    assert Path(calls[0][-1]) == (tmp_path / "kdl").resolve()


def test_the_install_cell_installs_the_repository_from_its_examples_folder():
    calls = install_cell_calls(REPOSITORY / "examples")
    assert len(calls) == 1 and Path(calls[0][-1]) == REPOSITORY


def test_the_install_cell_says_where_to_put_the_repository_when_there_is_none(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in notebook.cells if c.cell_type == "code" and "pip" in c.source)
    done = subprocess.run([sys.executable, "-S", "-c", INSTALL_PROBE], input=cell.source,
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "clone it as ./kdl" in done.stderr
