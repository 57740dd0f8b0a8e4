"""Prod: an approved model package is deployed by its own workflow, started by the approval event."""

from __future__ import annotations

import fnmatch

import botocore.session
import pytest
from botocore.validate import ParamValidator

from tests.conftest import SynthesizedApp
from tests.stacks.test_pipeline_requests import _granted_actions, _needed_actions
from tests.stacks.workflow_definition import (
    TOKEN,
    api_of,
    assert_path,
    definition_of,
    render,
    states,
    tasks,
)

PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/sagemakerpipeline-prod-storage-models/3"
CONTEXT = {
    "Execution": {
        "Id": "arn:aws:states:us-east-1:123456789012:execution:approve:0b7e2a3c-5d1f-4c2e-9f4a-1a2b3c4d5e6f",
        "Name": "0b7e2a3c-5d1f-4c2e-9f4a-1a2b3c4d5e6f",
        "RedriveCount": 0,
    },
    "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:approve"},
}
PATH = [
    "DescribeModelPackage",
    "StillApproved?",
    "PlanDeployment",
    "CreateModel",
    "CreateEndpointConfig",
    "FindEndpoint",
    "CheckEndpointExists",
    "EndpointExists?",
    "UpdateEndpoint",
    "WaitForEndpoint",
    "DescribeEndpoint",
    "EndpointInService?",
    "RegisterScalableTarget",
    "PutScalingPolicy",
    "Summarize",
    "Deployed",
]


@pytest.fixture(scope="module")
def approval(prod: SynthesizedApp) -> dict:
    return definition_of(prod.template("pipeline"), "Approval")


def test_only_environments_with_manual_approval_have_it(dev: SynthesizedApp) -> None:
    with pytest.raises(ValueError):
        definition_of(dev.template("pipeline"), "Approval")


def test_reads_the_package_checks_approval_then_rolls_out(approval: dict) -> None:
    graph = states(approval)
    assert approval["StartAt"] == "DescribeModelPackage"
    assert_path(approval, PATH)
    assert graph["StillApproved?"]["Default"] == "NotApproved" and graph["NotApproved"]["Type"] == "Fail"


def test_approval_event_starts_the_workflow_with_the_package(prod: SynthesizedApp) -> None:
    rules = [
        r["Properties"]
        for r in prod.resources("pipeline", "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"].get("source") == ["aws.sagemaker"]
    ]
    (rule,) = rules
    assert rule["EventPattern"]["detail-type"] == ["SageMaker Model Package State Change"]
    assert rule["EventPattern"]["detail"] == {
        "ModelPackageGroupName": ["sagemakerpipeline-prod-storage-models"],
        "ModelApprovalStatus": ["Approved"],
    }
    (target,) = rule["Targets"]
    assert target["Arn"]["Ref"].startswith("ApprovalStateMachine")
    assert target["InputTransformer"]["InputPathsMap"] == {"detail-ModelPackageArn": "$.detail.ModelPackageArn"}


def test_every_request_matches_the_service_model(approval: dict) -> None:
    state = {
        "model_package_arn": PACKAGE,
        "package": {
            "status": "Approved",
            "container": {
                "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/r:abc",
                "ModelDataUrl": "s3://artifacts-bucket/runs/r/models/t/output/model.tar.gz",
            },
        },
    }
    state = render(states(approval)["PlanDeployment"]["Parameters"], state, CONTEXT)
    state.update({"existing": {"names": ["x"], "exists": True}, "deployment": {"action": "update"}})
    session = botocore.session.get_session()
    for name, task in tasks(approval).items():
        service, operation = api_of(task["Resource"])
        if service == "lambda":
            continue
        source = {"model_package_arn": PACKAGE} if name == "DescribeModelPackage" else state
        request = render(task["Parameters"], source, CONTEXT)
        report = ParamValidator().validate(
            request, session.get_service_model(service).operation_model(operation).input_shape
        )
        assert not report.has_errors(), f"{name}:\n{report.generate_report()}"
    assert len(state["run"]["jobs"]["model"]) <= 63 and TOKEN not in state["run"]["jobs"]["model"]


def test_every_called_action_is_granted_and_no_job_rights(prod: SynthesizedApp, approval: dict) -> None:
    granted = _granted_actions(prod.template("pipeline"), "Approval")
    for name, task in tasks(approval).items():
        for action in _needed_actions(task):
            assert any(fnmatch.fnmatch(action.lower(), g.lower()) for g in granted), f"{name} needs {action}"
    assert not [g for g in granted if "TrainingJob" in g or "ProcessingJob" in g]
