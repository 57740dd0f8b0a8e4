"""The optional notebook instance: no direct internet, no root, encrypted, retained, least privilege."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from stacks.app_builder import build_app
from stacks.config import load_config
from tests.conftest import SynthesizedApp, cdk_json_context
from tests.stacks.test_policy_gates import _lint

SUBNET, GROUP = "subnet-0123456789abcdef0", "sg-0123456789abcdef0"


@pytest.fixture(scope="module")
def notebook_app(tmp_path_factory) -> SynthesizedApp:
    base = load_config("prod")
    config = base.model_copy(
        update={
            "notebook": base.notebook.model_copy(
                update={"enabled": True, "subnet_id": SUBNET, "security_group_ids": (GROUP,)}
            )
        }
    )
    outdir = tmp_path_factory.mktemp("cdk-notebook")
    app = cdk.App(context={**cdk_json_context(), "env": "prod"}, outdir=str(outdir))
    stage = build_app(app, [config])["prod"]
    assembly = app.synth().get_nested_assembly(stage.artifact_id)  # the policy gates pass, or this raises
    templates = {role: assembly.get_stack_artifact(s.artifact_id).template for role, s in stage.stacks.items()}
    names = {role: s.artifact_id for role, s in stage.stacks.items()}
    return SynthesizedApp("prod", outdir, templates, names, outdir)


def _instance(app: SynthesizedApp) -> dict:
    (instance,) = app.resources("notebook", "AWS::SageMaker::NotebookInstance").values()
    return instance


def test_no_notebook_unless_enabled(each_env: SynthesizedApp) -> None:
    assert "notebook" not in each_env.templates


def test_instance_has_no_direct_internet_no_root_and_an_encrypted_volume(notebook_app: SynthesizedApp) -> None:
    instance = _instance(notebook_app)
    props = instance["Properties"]
    assert (props["DirectInternetAccess"], props["RootAccess"]) == ("Disabled", "Disabled")
    assert (props["SubnetId"], props["SecurityGroupIds"]) == (SUBNET, [GROUP])
    assert "KmsKeyId" in props and props["InstanceType"] == "ml.t3.medium"
    assert instance["DeletionPolicy"] == instance["UpdateReplacePolicy"] == "Retain"  # people's work lives there


def test_role_starts_and_follows_runs_and_calls_only_the_endpoint(notebook_app: SynthesizedApp) -> None:
    statements = {
        s.get("Sid"): s
        for r in notebook_app.resources("notebook", "AWS::IAM::Policy").values()
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    }
    assert statements["StartPipelineRuns"]["Action"] == "states:StartExecution"
    assert len(statements["StartPipelineRuns"]["Resource"]) == 4  # training, approval, scoring, monitoring (prod)
    assert set(statements["CallTheEndpoint"]["Action"]) == {"sagemaker:InvokeEndpoint", "sagemaker:DescribeEndpoint"}
    actions = {a for s in statements.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not [a for a in actions if a.startswith(("sagemaker:Create", "iam:", "sagemaker:Delete"))]


def test_notebook_template_is_lint_clean(notebook_app: SynthesizedApp) -> None:
    assert _lint(notebook_app.template("notebook")) == []
