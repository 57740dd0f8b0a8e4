"""Every AWS request in the definition, rendered against a state the real prepare-run logic produced,
is valid for botocore's service model; every API it calls is granted to the state machine's role."""

from __future__ import annotations

import fnmatch
import json
import sys
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from tests.conftest import REPO_ROOT, SynthesizedApp
from tests.stacks.workflow_definition import api_of, definition_of, render, tasks

sys.path.insert(0, str(REPO_ROOT / "lambdas" / "prepare_run"))
from run_planning.run_plan import plan_run
from run_planning.settings import Settings

CONTEXT = {
    "Execution": {
        "Id": "arn:aws:states:us-east-1:123456789012:execution:sm:run-1",
        "Name": "run-1",
        "StartTime": "2026-11-26T04:00:00Z",
        "RedriveCount": 0,
    },
    "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:sm"},
}
INPUTS = {
    "training": {"data": "s3://data-bucket/datasets/cancer.csv", "tuning": {"enabled": False}},
    "tuning": {"data": "s3://data-bucket/datasets/", "tuning": {"enabled": True, "strategy": "Random"}},
    "grid": {
        "data": "s3://data-bucket/d/",
        "algorithm": "decision-tree",
        "tuning": {"enabled": True, "strategy": "Grid"},
    },
    "regression": {
        "data": "s3://data-bucket/d/",
        "algorithm": "ridge",
        "objective": {"metric": "rmse", "threshold": 60},
    },
}


def _function_environment(template: dict, name: str) -> dict[str, str]:
    (function,) = [
        r
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function" and k.startswith(f"Functions{name}")
    ]
    return function["Properties"]["Environment"]["Variables"]


def sample_state(app: SynthesizedApp, execution_input: dict) -> dict[str, Any]:
    """The state document after evaluation, with the run planned by the real prepare-run code."""
    environment = _function_environment(app.template("pipeline"), "PrepareRun")
    settings = Settings(
        "data-bucket", "artifacts-bucket", environment["ENDPOINT_NAME"], json.loads(environment["RUN_DEFAULTS"])
    )
    run = plan_run(execution_input, settings, execution_name="run-1", start_time="2026-11-26T04:00:00Z")
    model = f"{run['s3']['models']}/{run['jobs']['train']}/output/model.tar.gz"
    return {
        "run": run,
        "results": {
            "model": {"training_job": run["jobs"]["train"], "artifact": model, "image": "123456789012.dkr.ecr.x/r:t"},
            "model_package": {"arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1"},
        },
        "evaluation": {
            "report": {
                "objective": {"name": run["objective"]["metric"], "value": 0.97},
                "metrics": {run["objective"]["metric"]: 0.97},
            }
        },
        "existing": {"names": [], "exists": False},
        "deployment": {"action": "create"},
        "endpoint": {"details": {"FailureReason": "x"}},
    }


@pytest.fixture(scope="module")
def sagemaker_model():
    return botocore.session.get_session().get_service_model("sagemaker")


@pytest.mark.parametrize("variant", sorted(INPUTS))
@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_every_request_matches_the_service_model(
    synthesized: dict[str, SynthesizedApp], environment: str, variant: str
) -> None:
    app = synthesized[environment]
    state = sample_state(app, INPUTS[variant])
    session = botocore.session.get_session()
    checked = []
    for name, task in tasks(definition_of(app.template("pipeline"))).items():
        service, operation = api_of(task["Resource"])
        if service == "lambda":
            continue
        request = render(task["Parameters"], state, CONTEXT)
        shape = session.get_service_model(service).operation_model(operation).input_shape
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), f"{name} ({operation}):\n{report.generate_report()}"
        checked.append(name)
    assert {"Process", "Train", "Tune", "Evaluate", "RegisterModel", "ReadEvaluation"} <= set(checked)


def test_a_misspelled_key_would_fail(synthesized: dict[str, SynthesizedApp], sagemaker_model) -> None:
    app = synthesized["dev"]
    train = tasks(definition_of(app.template("pipeline")))["Train"]
    request = render(train["Parameters"], sample_state(app, INPUTS["training"]), CONTEXT)
    request["ResourceConfig"]["InstanceTyp"] = request["ResourceConfig"].pop("InstanceType")
    report = ParamValidator().validate(request, sagemaker_model.operation_model("CreateTrainingJob").input_shape)
    assert 'Unknown parameter in ResourceConfig: "InstanceTyp"' in report.generate_report()


def test_tuning_job_name_fits_sagemakers_limit(synthesized: dict[str, SynthesizedApp], sagemaker_model) -> None:
    run = sample_state(synthesized["dev"], INPUTS["tuning"])["run"]
    limit = sagemaker_model.shape_for("HyperParameterTuningJobName").metadata["max"]
    assert len(run["jobs"]["tune"]) <= limit == 32
    for name in run["jobs"].values():
        assert len(name) <= 63


def _granted_actions(template: dict, workflow: str = "Workflow") -> list[str]:
    role_ids = {
        k
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and k.startswith(f"{workflow}StateMachineRole")
    }
    granted = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        if not {r.get("Ref") for r in resource["Properties"].get("Roles", [])} & role_ids:
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            granted += [actions] if isinstance(actions, str) else actions
    return granted


def _needed_actions(task: dict) -> set[str]:
    service, operation = api_of(task["Resource"])
    if service == "lambda":
        return {"lambda:InvokeFunction"}
    needed = {f"{service}:{operation}"}
    if task["Resource"].endswith(".sync"):
        # Step Functions describes the job until it ends, stops it if the execution stops, and keeps a rule.
        noun = operation.removeprefix("Create")
        needed |= {
            f"sagemaker:Describe{noun}",
            f"sagemaker:Stop{noun}",
            "events:PutRule",
            "events:PutTargets",
            "events:DescribeRule",
        }
    return needed


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_every_called_action_is_granted(synthesized: dict[str, SynthesizedApp], environment: str) -> None:
    template = synthesized[environment].template("pipeline")
    granted = _granted_actions(template)
    for name, task in tasks(definition_of(template)).items():
        for action in _needed_actions(task):
            # IAM compares action names case-insensitively.
            assert any(fnmatch.fnmatch(action.lower(), p.lower()) for p in granted), f"{name} needs {action}"


def test_pass_role_only_to_sagemaker(dev: SynthesizedApp) -> None:
    for resource in dev.template("pipeline")["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            if "iam:PassRole" in json.dumps(statement["Action"]):
                assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_every_training_job_gets_the_environments_memory_fraction(
    synthesized: dict[str, SynthesizedApp], environment: str
) -> None:
    # the container decides from it whether a channel is held in memory, streamed or refused (memory_plan.py)
    from stacks.config import load_config

    fraction = load_config(environment).training.memory_fraction
    definition = tasks(definition_of(synthesized[environment].template("pipeline")))
    train = definition["Train"]["Parameters"]
    tuned = definition["Tune"]["Parameters"]["TrainingJobDefinition"]
    for request in (train, tuned):
        assert request["Environment"] == {"TRAINING_MEMORY_FRACTION": f"{fraction:g}"}
