"""notebooks/quickstart.ipynb executed top to bottom with nbclient against the local backend.

The kernel gets a fresh state dir (not the developer's .local/) and the committed app's cloud assembly; the
run options are overridden the way papermill does it, with a cell after the one tagged "parameters"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import nbformat
import pytest
from nbclient import NotebookClient

from tests.pipeline_client.committed_app import REPO_ROOT, committed_cdk_out

NOTEBOOK = REPO_ROOT / "notebooks" / "quickstart.ipynb"
OVERRIDES = "TUNING = False  # one training job: the run takes seconds, not a tuning job's minutes"
PROBE = """
import json
print("PROBE " + json.dumps({
    "status": result.status, "outcome": result.decision.outcome, "labels": rows.labels,
    "predictions": predictions, "url": pipeline.local.cloud.sagemaker.endpoint_url(pipeline.describe().endpoint_name),
    "package": result.output["model_package_arn"], "scored": scored.output, "scored_rows": scored.rows(),
    "batch": scored.predictions(), "sample": sample.features,
}))
"""


def _tagged(notebook: nbformat.NotebookNode, tag: str) -> int:
    return next(i for i, cell in enumerate(notebook.cells) if tag in cell.metadata.get("tags", []))


def _text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/ping", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_the_committed_notebook_has_no_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_quickstart_runs_to_a_prediction_on_the_local_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    state_dir = tmp_path / "state"
    for name, value in {
        "PIPELINE_BACKEND": "local",
        "PIPELINE_ENV": "dev",
        "PIPELINE_STATE_DIR": str(state_dir),
        "PIPELINE_CDK_OUT": str(committed_cdk_out(tmp_path_factory)),
    }.items():
        monkeypatch.setenv(name, value)  # the kernel inherits this process's environment
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.insert(_tagged(notebook, "parameters") + 1, nbformat.v4.new_code_cell(OVERRIDES))
    notebook.cells.insert(_tagged(notebook, "cleanup"), nbformat.v4.new_code_cell(PROBE))
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    try:
        client.execute()
        probe = json.loads(_text(notebook.cells[_tagged(notebook, "cleanup") - 1]).split("PROBE ", 1)[1])
        serving_after_close = _answers(probe["url"])  # the last cell, pipeline.close(), must have stopped it
    finally:  # whatever happened in the kernel, no endpoint server outlives the test
        subprocess.run(
            [sys.executable, "-m", "local_runner", "stop", "--state-dir", str(state_dir)],
            cwd=REPO_ROOT,
            capture_output=True,
            check=False,
        )
    run = _text(notebook.cells[_tagged(notebook, "run")])
    assert "✓ Evaluate" in run and "SUCCEEDED after" in run and "status='SUCCEEDED'" in run
    decision = _text(notebook.cells[_tagged(notebook, "decision")])
    assert "quality gate passed: accuracy" in decision and "accuracy" in decision.split("\n", 1)[1]
    assert "predicted_label" in _text(notebook.cells[_tagged(notebook, "predict")])
    score = _text(notebook.cells[_tagged(notebook, "score")])
    assert "✓ Transform" in score and "SUCCEEDED after" in score and "'status': 'SCORED'" in score
    shown = _text(notebook.cells[_tagged(notebook, "scored")]).splitlines()
    assert shown[0].startswith(f"50 rows scored by {probe['package']} into s3://")
    assert len([line for line in shown if " … " in line]) == 3 and "prediction" in shown[4]
    assert (probe["status"], probe["outcome"]) == ("SUCCEEDED", "DEPLOYED")
    assert len(probe["predictions"]) == len(probe["labels"]) == 5
    assert {p["predicted_label"] for p in probe["predictions"]} <= {0, 1}
    assert probe["url"].startswith("http://127.0.0.1:") and not serving_after_close
    # Batch scoring: the deployed run's package scored the rows; each came back with its prediction, and the
    # batch transform job agrees with the endpoint on the rows both scored.
    assert probe["scored"]["status"] == "SCORED" and probe["scored"]["model_package_arn"] == probe["package"]
    assert [row[:30] for row in probe["scored_rows"]] == probe["sample"] and len(probe["batch"]) == 50
    assert probe["batch"][:5] == [p["predicted_label"] for p in probe["predictions"]]
