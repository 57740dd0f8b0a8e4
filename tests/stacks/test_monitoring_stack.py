"""The monitoring templates: schedule, workflow (Retry and Catch on every task, requests valid for botocore,
IAM derived from the definition), the violation alarm to the topic, the dashboard; dev has none."""

from __future__ import annotations

import datetime
import fnmatch
import json
import sys

import botocore.session
import pytest
from botocore.validate import ParamValidator

from tests.conftest import REPO_ROOT, SynthesizedApp
from tests.stacks.test_pipeline_requests import CONTEXT, _granted_actions, _needed_actions
from tests.stacks.workflow_definition import api_of, assert_path, definition_of, render, states, tasks

for path in (REPO_ROOT / "lambdas" / "plan_monitoring", REPO_ROOT / "tests" / "lambdas" / "plan_monitoring"):
    sys.path.insert(0, str(path))
from monitoring_planning.plan import Clients, plan_monitoring  # noqa: E402
from monitoring_planning.settings import MonitoringSettings  # noqa: E402

WORKFLOW = "MonitoringWorkflow"
BOTOCORE_SERVICES = {"sfn": "stepfunctions"}


def _one(app: SynthesizedApp, resource_type: str, prefix: str) -> dict:
    (found,) = [r for k, r in app.resources("pipeline", resource_type).items() if k.startswith(prefix)]
    return found


def _definition(app: SynthesizedApp) -> dict:
    return definition_of(app.template("pipeline"), WORKFLOW)


def test_dev_has_no_monitoring(dev: SynthesizedApp) -> None:
    assert not [k for k in dev.template("pipeline")["Resources"] if k.startswith("Monitoring")]
    assert not dev.resources("pipeline", "AWS::Scheduler::Schedule")


def test_an_hourly_schedule_starts_the_workflow_with_its_time(prod: SynthesizedApp) -> None:
    schedule = _one(prod, "AWS::Scheduler::Schedule", "MonitoringSchedule")["Properties"]
    assert (
        schedule["ScheduleExpression"] == "cron(10 * * * ? *)" and schedule["ScheduleExpressionTimezone"] == "Etc/UTC"
    )
    target = schedule["Target"]
    assert target["Arn"]["Ref"].startswith("MonitoringWorkflowStateMachine")
    assert json.loads(target["Input"]) == {"scheduled_time": "<aws.scheduler.scheduled-time>"}
    assert target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0].startswith("FunctionsFailureHandlerDeadLetters")
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 4


def test_the_schedule_can_write_to_its_encrypted_dead_letter_queue(prod: SynthesizedApp) -> None:
    schedule = _one(prod, "AWS::Scheduler::Schedule", "MonitoringSchedule")["Properties"]
    role = schedule["Target"]["RoleArn"]["Fn::GetAtt"][0]
    actions = set()
    for policy in prod.resources("pipeline", "AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                found = statement["Action"]
                actions |= {found} if isinstance(found, str) else set(found)
    assert {"sqs:SendMessage", "kms:GenerateDataKey", "kms:Decrypt", "states:StartExecution"} <= actions


def test_every_task_retries_and_catches(prod: SynthesizedApp) -> None:
    definition = _definition(prod)
    for name, task in tasks(definition).items():
        assert task.get("Retry"), f"{name} has no Retry"
        assert any("States.ALL" in c["ErrorEquals"] for c in task.get("Catch", [])), f"{name} has no catch-all"
    assert_path(definition, ["PlanMonitoring", "AnythingToMonitor?", "NothingToMonitor"])
    assert_path(definition, ["AnythingToMonitor?", "Monitor", "ReadViolations", "CountViolations", "AnyViolations?"])
    assert_path(definition, ["AnyViolations?", "StartRetraining", "RetrainingStarted"])
    assert_path(definition, ["Monitor", "MonitorFailed", "HandleFailure", "PipelineFailed"])
    assert {"NoViolations", "ViolationsFound"} <= set(states(definition))


def test_the_workflow_logs_and_traces(prod: SynthesizedApp) -> None:
    machine = _one(prod, "AWS::StepFunctions::StateMachine", "MonitoringWorkflowStateMachine")["Properties"]
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["StateMachineType"] == "STANDARD"


@pytest.fixture(scope="module")
def planned() -> dict:
    """A plan from the real planner, against moto, for a serving endpoint with captures and ground truth."""
    from monitoring_world import CAPTURE_HOUR, CONFIG, ENDPOINT, SCHEDULED, create_world
    from moto import mock_aws

    with mock_aws():
        world = create_world()
        world.serve()
        world.put("artifacts", f"{CAPTURE_HOUR}a.jsonl")
        world.put("data", "ground-truth/2026/12/01/09/labels.jsonl")
        settings = MonitoringSettings(ENDPOINT, "data", "artifacts", world.pipeline_arn, CONFIG)
        clients = Clients(world.sagemaker, world.s3, world.stepfunctions)
        event = {"input": {"scheduled_time": SCHEDULED}, "execution_name": "e-1", "start_time": SCHEDULED}
        plan = plan_monitoring(event, settings, clients, datetime.datetime.now(datetime.UTC))
    assert plan["action"] == "monitor" and plan["retrain"]["allowed"]
    return plan


def test_every_request_matches_the_service_model(prod: SynthesizedApp, planned: dict) -> None:
    session = botocore.session.get_session()
    state = {"monitoring": planned}
    checked = []
    for name, task in tasks(_definition(prod)).items():
        service, operation = api_of(task["Resource"])
        if service == "lambda":
            continue
        parameters = dict(task["Parameters"])
        if service == "sfn":  # States.JsonToString, which the test renderer does not evaluate
            assert parameters.pop("Input.$") == "States.JsonToString($.monitoring.retrain.input)"
        request = render(parameters, state, CONTEXT)
        if service == "sfn":  # the SDK integration takes botocore's members in PascalCase
            request = {k[0].lower() + k[1:]: v for k, v in request.items()}
            request["input"] = json.dumps(planned["retrain"]["input"])
        model = session.get_service_model(BOTOCORE_SERVICES.get(service, service))
        report = ParamValidator().validate(request, model.operation_model(operation).input_shape)
        assert not report.has_errors(), f"{name} ({operation}):\n{report.generate_report()}"
        checked.append(name)
    assert set(checked) == {"Monitor", "ReadViolations", "StartRetraining"}


def test_every_called_action_is_granted(prod: SynthesizedApp) -> None:
    template = prod.template("pipeline")
    granted = _granted_actions(template, WORKFLOW)
    for name, task in tasks(_definition(prod)).items():
        for action in _needed_actions(task):
            action = action.replace("sfn:", "states:")  # the SDK's service name for Step Functions' IAM prefix
            assert any(fnmatch.fnmatch(action.lower(), p.lower()) for p in granted), f"{name} needs {action}"
    assert "iam:PassRole" in granted


def test_the_job_role_reads_captures_and_writes_reports(prod: SynthesizedApp) -> None:
    policies = json.dumps(
        [p for k, p in prod.resources("pipeline", "AWS::IAM::Policy").items() if k.startswith("SageMakerExecution")]
    )
    assert '"/data-capture/*"' in policies and '"/monitoring/*"' in policies


def test_a_violation_alarms_the_projects_topic(prod: SynthesizedApp) -> None:
    alarm = _one(prod, "AWS::CloudWatch::Alarm", "MonitoringViolationAlarm")["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "SageMakerPipeline/Monitoring",
        "ViolationCount",
        "Maximum",
    )
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    assert [a["Ref"] for a in alarm["AlarmActions"]] == [
        k for k in prod.resources("pipeline", "AWS::SNS::Topic") if k.startswith("NotificationsTopic")
    ]


def test_the_dashboard_shows_drift_per_feature_and_runs(prod: SynthesizedApp) -> None:
    (dashboard,) = prod.resources("pipeline", "AWS::CloudWatch::Dashboard").values()  # the pipeline's one
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "SEARCH(" in body and "FeatureDrift" in body and "MissingRate" in body
    assert "Monitoring executions" in body and "MonitoringViolationAlarm" in body
