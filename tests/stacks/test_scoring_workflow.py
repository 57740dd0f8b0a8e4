"""Batch scoring: its graph, its requests against botocore's model, its IAM, per environment."""

from __future__ import annotations

import fnmatch
import json

import botocore.session
import pytest
from botocore.validate import ParamValidator
from run_planning.scoring_plan import plan_scoring
from run_planning.settings import ScoringSettings

from tests.conftest import SynthesizedApp
from tests.stacks.test_pipeline_requests import CONTEXT, _function_environment, _granted_actions, _needed_actions
from tests.stacks.workflow_definition import api_of, assert_path, definition_of, render, states, tasks

PATH_NEWEST_APPROVED = [
    "PrepareScoring",
    "PackageGiven?",
    "FindApprovedModel",
    "CountApproved",
    "AnyApproved?",
    "UseNewestApproved",
    "DescribeModelPackage",
    "Approved?",
    "CreateModel",
    "Transform",
    "Summarize",
    "Scored",
]
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/{group}/3"


@pytest.fixture(scope="module", params=["dev", "prod"])
def scoring(request, synthesized: dict[str, SynthesizedApp]) -> tuple[SynthesizedApp, dict]:
    app = synthesized[request.param]
    return app, definition_of(app.template("pipeline"), "Scoring")


def _settings(app: SynthesizedApp) -> ScoringSettings:
    env = _function_environment(app.template("pipeline"), "PrepareScoring")
    return ScoringSettings(
        "data-bucket", "artifacts-bucket", env["MODEL_PACKAGE_GROUP"], json.loads(env["SCORING_DEFAULTS"])
    )


def test_scores_with_the_newest_approved_package_unless_one_is_given(scoring) -> None:
    _, definition = scoring
    graph = states(definition)
    assert_path(definition, PATH_NEWEST_APPROVED)
    assert graph["PackageGiven?"]["Choices"][0] == {
        "Variable": "$.scoring.model_package_arn",
        "IsNull": True,
        "Next": "FindApprovedModel",
    }
    assert graph["PackageGiven?"]["Default"] == "UseGivenPackage"
    assert graph["UseGivenPackage"]["Next"] == "DescribeModelPackage"
    assert graph["AnyApproved?"]["Choices"][0]["Next"] == "NoApprovedModel"
    assert graph["NoApprovedModel"]["Type"] == graph["NotApproved"]["Type"] == "Fail"
    listing = graph["FindApprovedModel"]["Parameters"]
    assert (listing["ModelApprovalStatus"], listing["SortBy"], listing["SortOrder"], listing["MaxResults"]) == (
        "Approved",
        "CreationTime",
        "Descending",
        1,
    )


def test_the_transform_job_waits_for_completion_and_every_task_is_caught(scoring) -> None:
    _, definition = scoring
    graph = states(definition)
    assert graph["Transform"]["Resource"] == "arn:aws:states:::sagemaker:createTransformJob.sync"
    assert graph["Transform"]["TimeoutSeconds"] > 3600
    for name, task in tasks(definition).items():
        catchers = {e for c in task.get("Catch", []) for e in c["ErrorEquals"]}
        assert "States.ALL" in catchers, name
    failed = graph[graph["Transform"]["Catch"][-1]["Next"]]
    assert failed["Parameters"]["job"] == {"type": "transform", "name.$": "$.scoring.jobs.transform"}


@pytest.mark.parametrize(
    "execution_input",
    [
        {"data": "s3://data-bucket/scoring/batch-1/"},
        {"data": "s3://data-bucket/scoring/x.csv", "skip_first_column": True, "join_input": False},
    ],
)
def test_every_request_matches_the_service_model(scoring, execution_input: dict) -> None:
    app, definition = scoring
    settings = _settings(app)
    plan = plan_scoring(execution_input, settings, execution_name="run-1", start_time="2026-11-26T04:00:00Z")
    package = PACKAGE.format(group=settings.model_package_group)
    state = {
        "scoring": plan,
        "approved": {"arns": [package], "count": 1},
        "package": {
            "arn": package,
            "status": "Approved",
            "container": {"Image": "1.dkr.ecr.us-east-1.amazonaws.com/r:abc", "ModelDataUrl": "s3://a/m.tar.gz"},
        },
    }
    session = botocore.session.get_session()
    for name, task in tasks(definition).items():
        service, operation = api_of(task["Resource"])
        if service == "lambda":
            continue
        request = render(task["Parameters"], state, CONTEXT)
        report = ParamValidator().validate(
            request, session.get_service_model(service).operation_model(operation).input_shape
        )
        assert not report.has_errors(), f"{name}:\n{report.generate_report()}"
    transform = render(states(definition)["Transform"]["Parameters"], state, CONTEXT)
    assert transform["TransformOutput"]["S3OutputPath"] == f"s3://artifacts-bucket/scoring/{plan['id']}/"
    assert transform["TransformOutput"]["KmsKeyId"] == transform["TransformResources"]["VolumeKmsKeyId"]


def test_every_called_action_is_granted_and_nothing_of_training(scoring) -> None:
    app, definition = scoring
    granted = _granted_actions(app.template("pipeline"), "Scoring")
    for name, task in tasks(definition).items():
        for action in _needed_actions(task):
            assert any(fnmatch.fnmatch(action.lower(), g.lower()) for g in granted), f"{name} needs {action}"
    assert not [g for g in granted if "TrainingJob" in g or "Endpoint" in g]


def test_the_failure_handler_may_stop_a_transform_job(scoring) -> None:
    app, _ = scoring
    (policy,) = [
        r["Properties"]["PolicyDocument"]
        for k, r in app.template("pipeline")["Resources"].items()
        if k.startswith("FailureHandlerInspectAndStop")
    ]
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"sagemaker:DescribeTransformJob", "sagemaker:StopTransformJob"} <= actions


def test_sagemaker_may_write_the_transform_output(scoring) -> None:
    app, _ = scoring
    statements = [
        s
        for k, r in app.template("pipeline")["Resources"].items()
        if k.startswith("SageMakerExecutionRoleDefaultPolicy")
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    puts = [s for s in statements if "s3:PutObject" in s["Action"]]
    resources = [r for s in puts for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
    assert any(r["Fn::Join"][1][-1] == "/scoring/*" for r in resources if "Fn::Join" in r), resources
