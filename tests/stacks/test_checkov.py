"""checkov's CloudFormation checks over every synthesized template: no failure, no skip without a reason.

checkov runs from its own venv (`make .stamps/checkov`, which `make test` builds first); the tests build
it if it is missing and skip, saying why, only if it cannot be built.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, SynthesizedApp

CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"


@pytest.fixture(scope="session")
def checkov() -> Path:
    if not CHECKOV.exists():
        made = subprocess.run(["make", "-s", "-B", ".stamps/checkov"], cwd=REPO_ROOT, capture_output=True, text=True)
        if made.returncode != 0 or not CHECKOV.exists():
            pytest.skip(f"checkov's venv could not be created by `make .stamps/checkov`: {made.stderr[-400:]}")
    return CHECKOV


def run_checkov(checkov: Path, directory: Path) -> dict[str, list[dict]]:
    """Failed and skipped checks of checkov's CloudFormation framework over the templates in `directory`."""
    done = subprocess.run(
        [str(checkov), "-d", str(directory), "--framework", "cloudformation", "-o", "json", "--skip-download"],
        capture_output=True,
        text=True,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: some check failed
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    results = [r["results"] for r in reports if r.get("check_type") == "cloudformation"]
    return {kind: [c for r in results for c in r[f"{kind}_checks"]] for kind in ("failed", "skipped")}


def _named(checks: list[dict]) -> list[str]:
    return sorted(f"{c['check_id']} {c['resource']}" for c in checks)


def test_checkov_finds_no_unacknowledged_failure(checkov: Path, each_env: SynthesizedApp) -> None:
    found = run_checkov(checkov, each_env.stage_dir)
    assert _named(found["failed"]) == []
    unexplained = [c for c in found["skipped"] if not c["check_result"].get("suppress_comment")]
    assert _named(unexplained) == []
    assert found["skipped"], "the acknowledgments are read (VPC-less functions, the log bucket)"


def test_checkov_gate_is_live(checkov: Path, tmp_path: Path) -> None:
    """An unencrypted log group fails CKV_AWS_158; acknowledged in its metadata, it is skipped with the reason."""
    group = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}}
    acknowledged = {**group, "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_158", "comment": "probe"}]}}}
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"Plain": group, "Acknowledged": acknowledged}}
    (tmp_path / "probe.template.json").write_text(json.dumps(template))
    found = run_checkov(checkov, tmp_path)
    assert "CKV_AWS_158 AWS::Logs::LogGroup.Plain" in _named(found["failed"])
    skipped = {f"{c['check_id']} {c['resource']}": c["check_result"].get("suppress_comment") for c in found["skipped"]}
    assert skipped == {"CKV_AWS_158 AWS::Logs::LogGroup.Acknowledged": "probe"}
