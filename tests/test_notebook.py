"""reports/analysis.ipynb runs headless from a clean kernel against a stored results document."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "reports" / "analysis.ipynb"
STORED = Path(__file__).parent / "data" / "results_ci_partitions.json"


def test_committed_notebook_has_no_outputs() -> None:
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "the notebook has no code cells"
    dirty = [i for i, c in enumerate(code) if c.get("outputs") or c.get("execution_count") is not None]
    assert not dirty, f"code cells {dirty} keep outputs: clear them before committing"


def test_notebook_executes_against_a_chosen_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat", reason="needs the notebook extra: pip install -e '.[notebook]'")
    nbclient = pytest.importorskip("nbclient", reason="needs the notebook extra: pip install -e '.[notebook]'")
    pytest.importorskip("ipykernel", reason="needs ipykernel (notebook extra) to start a kernel")
    run = tmp_path / "runs" / "20261126T223218Z"
    run.mkdir(parents=True)
    shutil.copy(STORED, run / "results.json")
    monkeypatch.setenv("PHASE2_RUN", str(run))  # the kernel inherits the environment

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, when a cell fails

    outputs: list[dict[str, Any]] = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(
        str(o.get("text", ""))
        + str(o.get("data", {}).get("text/markdown", ""))
        + str(o.get("data", {}).get("text/html", ""))
        for o in outputs
    )
    assert str(run / "results.json") in text, "the notebook did not read the run PHASE2_RUN points at"
    assert "jsonb_containment" in text and "storage overhead +18.7%" in text
    assert text.count("<table") >= 4, "expected the verdict, case, sample and storage tables as DataFrames"
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4, f"expected the report's figures drawn inline, got {len(images)} images"
