"""app.py as `cdk synth` runs it: one CDK Stage per environment, chosen with -c env=..."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from local_runner.pipeline import stage_name as runner_stage_name
from local_runner.pipeline import synth_arguments
from local_runner.template import Assembly, TemplateError
from stacks.config import load_config
from stacks.pipeline_stage import stage_name

REPO_ROOT = Path(__file__).resolve().parent.parent


class Synth(subprocess.CompletedProcess):
    left_running: list[str]  # the command lines of processes app.py started and left behind


def _synth(outdir: Path, env: str) -> Synth:
    """app.py as the CLI runs it, in a session of its own: what it left running is still in that session."""
    context = {**json.loads((REPO_ROOT / "cdk.json").read_text())["context"], "env": env}
    with subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(outdir)},
        start_new_session=True,
    ) as process:
        stdout, stderr = process.communicate(timeout=300)
    result = Synth(process.args, process.returncode, stdout, stderr)
    result.left_running = _in_session(process.pid)
    return result


def _in_session(session: int) -> list[str]:
    """Command lines of the live processes of `session`."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        with contextlib.suppress(psutil.Error, OSError):  # it ended while we looked
            if os.getsid(process.pid) == session and process.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(" ".join(process.info["cmdline"] or []))
    return found


@pytest.fixture(scope="module")
def all_stages(tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("cdk-all")
    result = _synth(outdir, "all")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.left_running == []  # jsii's Node kernel was stopped, not orphaned, by the fast exit
    return outdir


def _stages(outdir: Path) -> dict[str, dict]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    stages = {}
    for artifact in manifest["artifacts"].values():
        if artifact["type"] == "cdk:cloud-assembly":
            nested = outdir / artifact["properties"]["directoryName"]
            stacks = json.loads((nested / "manifest.json").read_text())["artifacts"].values()
            stages[artifact["properties"]["displayName"]] = {
                s["properties"]["stackName"]: s["properties"].get("terminationProtection", False)
                for s in stacks
                if s["type"] == "aws:cloudformation:stack"
            }
    return stages


@pytest.mark.slow
def test_env_all_synthesizes_one_stage_per_environment(all_stages: Path) -> None:
    assert _stages(all_stages) == {
        "SageMakerPipeline-dev": {"SageMakerPipeline-dev-Storage": False, "SageMakerPipeline-dev-Pipeline": False},
        "SageMakerPipeline-prod": {"SageMakerPipeline-prod-Storage": True, "SageMakerPipeline-prod-Pipeline": True},
    }


def test_every_stage_passes_its_policy_gates(all_stages: Path) -> None:
    # A finding would have failed the synth above; tests/stacks/test_policy_gates.py proves a stage's gate bites.
    report = json.loads((all_stages / "validation-report.json").read_text())
    assert [r for r in report["pluginReports"] if r.get("violations")] == []


def test_local_runner_picks_a_stage_of_a_multi_stage_assembly(all_stages: Path) -> None:
    with pytest.raises(TemplateError, match=r"more than one stage .* SageMakerPipeline-dev, SageMakerPipeline-prod"):
        Assembly.load(all_stages)
    prod = Assembly.load(all_stages, stage="SageMakerPipeline-prod")
    assert sorted(prod.stacks) == ["SageMakerPipeline-prod-Pipeline", "SageMakerPipeline-prod-Storage"]
    with pytest.raises(TemplateError, match=r"stage 'SageMakerPipeline-qa' is not .* choose one of"):
        Assembly.load(all_stages, stage="SageMakerPipeline-qa")


def test_local_runner_names_stages_as_the_app_does() -> None:
    assert runner_stage_name("prod") == stage_name(load_config("prod"))


def test_a_comma_list_names_environments_once(tmp_path: Path) -> None:
    result = _synth(tmp_path, "dev,dev")
    assert result.returncode != 0
    assert "each environment may appear once, got dev, dev" in result.stderr
    assert result.left_running == []


def test_an_unknown_environment_exits_2_with_the_configuration_error(tmp_path: Path) -> None:
    result = _synth(tmp_path, "qa")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "qa" in result.stderr
    assert result.left_running == []


def test_the_app_runs_jsii_kernel_with_our_node_wrapper() -> None:
    # Set before aws_cdk is imported: jsii starts its kernel at that import and reads JSII_NODE then.
    environment = {k: v for k, v in os.environ.items() if k != "JSII_NODE"}
    probe = "import os, app, aws_cdk; print(os.environ['JSII_NODE']); print(aws_cdk.Duration.minutes(2).to_seconds())"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env=environment
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [str(REPO_ROOT / "tools" / "jsii-node"), "120"]


def test_the_node_wrapper_runs_webassembly_on_its_baseline_compiler_alone() -> None:
    node_bin = REPO_ROOT / "node_modules" / ".bin"
    if not (node_bin / "node").exists():
        pytest.skip("the project's Node is not installed (make setup)")
    result = subprocess.run(
        [str(REPO_ROOT / "tools" / "jsii-node"), "-p", "process.execArgv.join(' ')"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": f"{node_bin}{os.pathsep}{os.environ['PATH']}"},
    )
    assert result.returncode == 0, result.stderr  # a Node without the flag fails here: "bad option"
    assert result.stdout.split()[0] == "--liftoff-only"  # and jsii's runtime hands its execArgv to the kernel


PROBE_APP = """
import sys
sys.path.insert(0, {repo!r})
import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from stacks.nag import add_policy_gates
app = cdk.App()
stage = cdk.Stage(app, "SageMakerPipeline-probe")
s3.Bucket(cdk.Stack(stage, "Pipeline"), "Unencrypted")
add_policy_gates(stage)
app.synth()
"""


@pytest.mark.slow
def test_the_cli_synth_we_run_fails_on_a_gate_finding_inside_a_stage(tmp_path: Path) -> None:
    # The CDK CLI turns validation failures into errors only for the stacks it selects; without a
    # selector it selects no stack inside a stage, and a finding would pass silently.
    cdk = REPO_ROOT / "node_modules" / ".bin" / "cdk"
    if not cdk.exists():
        pytest.skip("the CDK CLI is not installed (make setup)")
    (tmp_path / "probe.py").write_text(PROBE_APP.format(repo=str(REPO_ROOT)))
    result = subprocess.run(
        [str(cdk), *synth_arguments("probe", tmp_path / "out"), "--app", f"{sys.executable} probe.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{cdk.parent}{os.pathsep}{os.environ['PATH']}"},
    )
    assert result.returncode != 0
    assert "AwsSolutions-S1" in result.stdout + result.stderr
