"""Gates every synthesized template passes: cfn-lint against the CloudFormation spec, cdk-nag's packs."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_kms as kms
from cfnlint.api import ManualArgs, lint

from stacks.components.secure_bucket import SecureBucket
from stacks.nag import acknowledge, add_policy_gates
from tests.conftest import ENVIRONMENTS, REPO_ROOT, SynthesizedApp

CFNLINT_SETTINGS = yaml.safe_load((REPO_ROOT / ".cfnlintrc.yaml").read_text())


def _lint(template: dict) -> list[str]:
    config = ManualArgs(
        regions=CFNLINT_SETTINGS["regions"], ignore_checks=CFNLINT_SETTINGS["ignore_checks"], include_checks=["I"]
    )
    matches = lint(json.dumps(template), config=config)
    # Informational findings (I*) are advice; errors and warnings fail the gate.
    return [f"{m.rule.id} {m.path_string}: {m.message}" for m in matches if not m.rule.id.startswith("I")]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_cfn_lint_finds_no_error_or_warning(synthesized: dict[str, SynthesizedApp], environment: str) -> None:
    app = synthesized[environment]
    for role, template in app.templates.items():
        assert _lint(template) == [], f"{environment}/{role}"


def test_cfn_lint_gate_is_live() -> None:
    broken = {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": "On"}}}
        }
    }
    assert any("E3030" in finding for finding in _lint(broken))


def test_synth_reports_no_unacknowledged_nag_finding(each_env: SynthesizedApp) -> None:
    # The session fixture's synth would have raised on a violation; the report must be empty too.
    report = json.loads((each_env.outdir / "validation-report.json").read_text())
    assert [r for r in report["pluginReports"] if r.get("violations")] == []


PROBE_FINDINGS = (
    "AwsSolutions-S1",
    "NIST.800.53.R5-S3BucketLoggingEnabled",
    "NIST.800.53.R5-S3BucketReplicationEnabled",
)


def _app_with_unlogged_bucket(tmp_path, acknowledged: tuple[str, ...]) -> cdk.App:
    """A SecureBucket without access logging, in a stage as the app builds them: compliant but for exactly
    PROBE_FINDINGS."""
    app = cdk.App(outdir=str(tmp_path))
    stage = cdk.Stage(app, "ProbeStage")
    stack = cdk.Stack(stage, "Probe")
    probe = SecureBucket(
        stack,
        "Unlogged",
        removal_policy=cdk.RemovalPolicy.RETAIN,
        noncurrent_version_expiration_days=1,
        incomplete_upload_expiration_days=1,
        encryption_key=kms.Key(stack, "Key", enable_key_rotation=True),
    )
    acknowledge(probe, *((finding, "probe of the gate") for finding in acknowledged))
    add_policy_gates(stage)
    return app


@pytest.mark.parametrize("missing", PROBE_FINDINGS)
def test_an_unacknowledged_finding_fails_synthesis(tmp_path, missing: str) -> None:
    acknowledged = tuple(f for f in PROBE_FINDINGS if f != missing)
    with pytest.raises(Exception, match=missing):
        _app_with_unlogged_bucket(tmp_path, acknowledged).synth()


def test_granular_acknowledgments_let_synthesis_pass(tmp_path) -> None:
    _app_with_unlogged_bucket(tmp_path, PROBE_FINDINGS).synth()


def test_each_stage_gate_checks_its_own_stage_once(tmp_path) -> None:
    """CDK hands every validation plugin the whole app: gates on two stages must still report each finding
    once, from the gate of the stage it is in (not once per stage of the app)."""
    app = cdk.App(outdir=str(tmp_path))
    for name in ("One", "Two"):
        stage = cdk.Stage(app, name)
        stack = cdk.Stack(stage, "Probe")
        probe = SecureBucket(
            stack,
            "Unlogged",
            removal_policy=cdk.RemovalPolicy.RETAIN,
            noncurrent_version_expiration_days=1,
            incomplete_upload_expiration_days=1,
            encryption_key=kms.Key(stack, "Key", enable_key_rotation=True),
        )
        acknowledge(probe, *((finding, "probe of the gate") for finding in PROBE_FINDINGS[1:]))
        add_policy_gates(stage)
    with pytest.raises(Exception, match=PROBE_FINDINGS[0]):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    found = [
        resource["constructPath"]
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
        if violation["ruleName"].endswith(PROBE_FINDINGS[0])
        for resource in violation["violatingConstructs"]
    ]
    assert sorted(found) == ["One/Probe/Unlogged/Bucket/Resource", "Two/Probe/Unlogged/Bucket/Resource"]
