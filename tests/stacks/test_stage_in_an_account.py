"""A stage deployed to a named account and region (`make synth ENV=prod -c account=... -c region=...`, or the
delivery pipeline's stages) passes the same policy gates: CDK then renders literal ARNs where an
environment-agnostic synth has `<AWS::Region>` and `<AWS::AccountId>`, so the acknowledgments must follow."""

from __future__ import annotations

import json

import pytest

from stacks.config import load_config
from tests.conftest import synthesize

ACCOUNT, REGION = "333333333333", "eu-west-1"


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_a_stage_in_a_named_account_has_no_unacknowledged_nag_finding(tmp_path, environment: str) -> None:
    config = load_config(environment, {"account": ACCOUNT, "region": REGION})
    synthesized = synthesize(environment, tmp_path / "cdk.out", config=config)  # raises on an unacknowledged one
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    assert [r for r in report["pluginReports"] if r.get("violations")] == []
