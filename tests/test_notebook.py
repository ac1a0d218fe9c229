from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"


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
