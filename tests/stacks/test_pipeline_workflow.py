"""The state machine as synthesized: its graph, error handling and quality gate, per behaviour."""

from __future__ import annotations

import pytest

from tests.conftest import SynthesizedApp
from tests.stacks.workflow_definition import assert_path, definition_of, states, tasks

HAPPY_PATH = [
    "PrepareRun",
    "Process",
    "Tune?",
    "Tune",
    "UseBestTrainingJob",
    "Evaluate",
    "ReadEvaluation",
    "QualityGate",
    "RegisterModel",
    "Deploy?",
    "CreateModel",
    "CreateEndpointConfig",
    "FindEndpoint",
    "CheckEndpointExists",
    "EndpointExists?",
    "CreateEndpoint",
    "WaitForEndpoint",
    "DescribeEndpoint",
    "EndpointInService?",
    "Summarize",
    "Succeeded",
]


@pytest.fixture(scope="module")
def dev_definition(dev: SynthesizedApp) -> dict:
    return definition_of(dev.template("pipeline"))


@pytest.fixture(scope="module")
def prod_definition(prod: SynthesizedApp) -> dict:
    return definition_of(prod.template("pipeline"))


def test_starts_by_preparing_the_run(dev_definition: dict) -> None:
    assert dev_definition["StartAt"] == "PrepareRun"


def test_happy_path_reads_top_to_bottom(dev_definition: dict) -> None:
    graph = states(dev_definition)
    assert_path(dev_definition, HAPPY_PATH)
    assert graph["Succeeded"]["Type"] == "Succeed"


def test_training_without_tuning_joins_the_same_evaluation(dev_definition: dict) -> None:
    graph = states(dev_definition)
    choice = graph["Tune?"]
    assert choice["Choices"] == [{"Variable": "$.run.tuning.enabled", "BooleanEquals": True, "Next": "Tune"}]
    assert choice["Default"] == "Train" and graph["Train"]["Next"] == "Evaluate"


def test_sagemaker_jobs_wait_for_completion(dev_definition: dict) -> None:
    resources = {name: t["Resource"] for name, t in tasks(dev_definition).items()}
    assert resources["Process"] == resources["Evaluate"] == "arn:aws:states:::sagemaker:createProcessingJob.sync"
    assert resources["Train"] == "arn:aws:states:::sagemaker:createTrainingJob.sync"
    assert resources["Tune"] == "arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync"


def test_processing_scales_out_and_the_evaluation_runs_once(dev_definition: dict) -> None:
    # processing shards its input over the plan's instance count; the evaluation scores one model on one test
    # split, so N instances would only run N identical evaluations and pay for them
    graph = states(dev_definition)
    process = graph["Process"]["Parameters"]["ProcessingResources"]["ClusterConfig"]
    evaluate = graph["Evaluate"]["Parameters"]["ProcessingResources"]["ClusterConfig"]
    assert process["InstanceCount.$"] == "$.run.instances.processing.InstanceCount"
    assert evaluate["InstanceCount"] == 1 and "InstanceCount.$" not in evaluate
    assert evaluate["InstanceType.$"] == process["InstanceType.$"]


def test_best_tuning_artifact_is_derived_from_the_output_path(dev_definition: dict) -> None:
    artifact = states(dev_definition)["UseBestTrainingJob"]["Parameters"]["artifact.$"]
    assert artifact == ("States.Format('{}/{}/output/model.tar.gz', $.run.s3.models, $.results.tuning.training_job)")


def test_every_task_retries_by_error_class_and_catches_everything_else(dev_definition: dict) -> None:
    graph = states(dev_definition)
    for name, task in tasks(dev_definition).items():
        retried = [set(r["ErrorEquals"]) for r in task.get("Retry", [])]
        assert any("SageMaker.ThrottlingException" in r for r in retried), name
        assert any("SageMaker.ResourceLimitExceededException" in r for r in retried), name
        assert not any(r & {"States.ALL", "States.TaskFailed"} for r in retried), f"{name} retries client errors"
        catch_all = [c for c in task["Catch"] if c["ErrorEquals"] == ["States.ALL"]]
        assert len(catch_all) == 1, name
        if name == "HandleFailure":
            assert catch_all[0]["Next"] == "PipelineFailedUnrecorded"
            continue
        described = graph[catch_all[0]["Next"]]
        assert described["Type"] == "Pass" and described["Next"] == "HandleFailure", name
        assert catch_all[0]["ResultPath"] == "$.error"


def test_the_integrations_catch_all_error_name_is_retried_only_briefly(dev_definition: dict) -> None:
    for name, task in tasks(dev_definition).items():
        for retrier in task.get("Retry", []):
            if "SageMaker.AmazonSageMakerException" in retrier["ErrorEquals"]:
                assert retrier["ErrorEquals"] == ["SageMaker.AmazonSageMakerException"], name
                assert retrier["MaxAttempts"] <= 2, name


def test_capacity_errors_wait_longer_than_throttling(dev_definition: dict) -> None:
    retry = {frozenset(r["ErrorEquals"]): r for r in tasks(dev_definition)["Train"]["Retry"]}
    throttling = next(r for k, r in retry.items() if "SageMaker.ThrottlingException" in k)
    capacity = next(r for k, r in retry.items() if "SageMaker.ResourceLimitExceededException" in k)
    assert capacity["IntervalSeconds"] >= 30 * throttling["IntervalSeconds"]
    assert throttling["JitterStrategy"] == capacity["JitterStrategy"] == "FULL"


@pytest.mark.parametrize(
    ("failed_state", "step", "job_type", "job_path"),
    [
        ("Process", "Process", "processing", "$.run.jobs.process"),
        ("Train", "Train", "training", "$.run.jobs.train"),
        ("Tune", "Tune", "tuning", "$.run.jobs.tune"),
        ("Evaluate", "Evaluate", "processing", "$.run.jobs.evaluate"),
        ("CreateEndpoint", "CreateEndpoint", "endpoint", "$.run.endpoint_name"),
        ("UpdateEndpoint", "UpdateEndpoint", "endpoint", "$.run.endpoint_name"),
    ],
)
def test_failure_event_names_the_step_and_its_job(
    dev_definition: dict, failed_state: str, step: str, job_type: str, job_path: str
) -> None:
    graph = states(dev_definition)
    describe = graph[tasks(dev_definition)[failed_state]["Catch"][-1]["Next"]]
    event = describe["Parameters"]
    assert event["step"] == step and event["job"]["type"] == job_type and event["job"]["name.$"] == job_path
    assert event["execution_arn.$"] == "$$.Execution.Id" and event["error.$"] == "$.error"


def test_endpoint_failure_tells_the_handler_whether_it_ever_served(dev_definition: dict) -> None:
    graph = states(dev_definition)
    assert graph["CreateEndpointFailed"]["Parameters"]["job"]["action"] == "create"
    assert graph["UpdateEndpointFailed"]["Parameters"]["job"]["action"] == "update"
    assert graph["DeployFailed"]["Parameters"]["job"]["action.$"] == "$.deployment.action"


def test_failures_end_in_a_fail_state_naming_step_and_cause(dev_definition: dict) -> None:
    graph = states(dev_definition)
    assert graph["HandleFailure"]["Next"] == "PipelineFailed"
    assert graph["PipelineFailed"] == {
        "Type": "Fail",
        "Comment": graph["PipelineFailed"]["Comment"],
        "ErrorPath": "$.handled.error",
        "CausePath": "$.handled.cause",
    }


def test_bad_input_fails_at_once_with_the_validation_message(dev_definition: dict) -> None:
    graph = states(dev_definition)
    invalid = next(c for c in graph["PrepareRun"]["Catch"] if c["ErrorEquals"] == ["InvalidExecutionInput"])
    assert graph["PrepareRun"]["Catch"][0] is invalid  # before the catch-all
    explain = graph[invalid["Next"]]
    assert explain["Parameters"] == {"details.$": "States.StringToJson($.error.Cause)"}
    fail = graph[explain["Next"]]
    assert fail["Type"] == "Fail" and fail["Error"] == "InvalidExecutionInput"
    assert fail["CausePath"] == "$.rejection.details.errorMessage"


def test_quality_gate_compares_in_the_metrics_direction(dev_definition: dict) -> None:
    gate = states(dev_definition)["QualityGate"]
    by_goal = {}
    for choice in gate["Choices"]:
        goal, comparison = choice["And"]
        assert goal["Variable"] == "$.run.objective.goal" and choice["Next"] == "RegisterModel"
        by_goal[goal["StringEquals"]] = comparison
    assert by_goal["Maximize"] == {
        "Variable": "$.evaluation.report.objective.value",
        "NumericGreaterThanEqualsPath": "$.run.objective.threshold",
    }
    assert by_goal["Minimize"] == {
        "Variable": "$.evaluation.report.objective.value",
        "NumericLessThanEqualsPath": "$.run.objective.threshold",
    }
    assert gate["Default"] == "DescribeRejection"


def test_a_rejected_model_ends_in_its_own_documented_state(dev_definition: dict) -> None:
    graph = states(dev_definition)
    rejection = graph["DescribeRejection"]
    assert rejection["Parameters"]["status"] == "REJECTED_BY_QUALITY_GATE"
    assert {"metric.$", "value.$", "threshold.$"} <= set(rejection["Parameters"])
    assert graph[rejection["Next"]]["Type"] == "Succeed" and rejection["Next"] == "QualityGateNotMet"


def test_endpoint_is_updated_when_it_exists_and_polled_until_in_service(dev_definition: dict) -> None:
    graph = states(dev_definition)
    assert graph["CheckEndpointExists"]["Parameters"] == {
        "exists.$": "States.ArrayContains($.existing.names, $.run.endpoint_name)"
    }
    assert graph["EndpointExists?"]["Choices"][0]["Next"] == "UpdateEndpoint"
    assert graph["EndpointExists?"]["Default"] == "CreateEndpoint"
    assert graph["CreateEndpoint"]["Next"] == graph["UpdateEndpoint"]["Next"] == "WaitForEndpoint"
    poll = graph["EndpointInService?"]
    assert {c["StringEquals"]: c["Next"] for c in poll["Choices"] if "StringEquals" in c} == {
        "InService": "DeploymentRolledBack",
    }
    # Statuses that waiting never turns into InService end the deployment, with or without a FailureReason.
    with_reason, without_reason = poll["Choices"][2], poll["Choices"][3]
    dead_ends = {c["StringEquals"] for c in without_reason["Or"]}
    assert dead_ends == {"Failed", "UpdateRollbackFailed", "OutOfService", "Deleting"}
    assert with_reason["Next"] == "EndpointFailed" and without_reason["Next"] == "EndpointUnusable"
    assert {"Variable": "$.endpoint.details.FailureReason", "IsPresent": True} in with_reason["And"]
    assert poll["Default"] == "WaitForEndpoint"


def test_prod_registers_for_manual_approval_and_does_not_deploy(prod_definition: dict) -> None:
    graph = states(prod_definition)
    assert graph["RegisterModel"]["Parameters"]["ModelApprovalStatus"] == "PendingManualApproval"
    assert graph["RegisterModel"]["Next"] == "SummarizeRegistered"
    assert "CreateEndpoint" not in graph


def test_dev_approves_and_deploys_in_the_same_run(dev_definition: dict) -> None:
    assert states(dev_definition)["RegisterModel"]["Parameters"]["ModelApprovalStatus"] == "Approved"


def test_jobs_have_timeouts(dev_definition: dict) -> None:
    for name in ("Process", "Train", "Tune", "Evaluate"):
        assert tasks(dev_definition)[name]["TimeoutSeconds"] > 3600, name


def test_endpoint_updates_are_blue_green_with_automatic_rollback(dev_definition: dict) -> None:
    config = states(dev_definition)["UpdateEndpoint"]["Parameters"]["DeploymentConfig"]
    assert config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"] == {
        "Type": "ALL_AT_ONCE",
        "WaitIntervalInSeconds": 0,
    }
    assert len(config["AutoRollbackConfiguration"]["Alarms"]) == 2


def test_prod_shifts_a_canary_first() -> None:
    from stacks.components.workflow.deployment import deployment_config
    from stacks.config import load_config

    config = deployment_config(load_config("prod").endpoint.deployment, ["errors", "latency"])
    policy = config["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"] == {
        "Type": "CANARY",
        "WaitIntervalInSeconds": 300,
        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
    }
    assert 600 <= policy["MaximumExecutionTimeoutInSeconds"] <= 28800
    assert config["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": "errors"}, {"AlarmName": "latency"}]}


def test_autoscaling_is_registered_once_in_service_and_idempotent(prod: SynthesizedApp) -> None:
    # Prod deploys instances (through its approval workflow); dev's serverless endpoint scales by itself.
    graph = states(definition_of(prod.template("pipeline"), "Approval"))
    register, policy = graph["RegisterScalableTarget"]["Parameters"], graph["PutScalingPolicy"]["Parameters"]
    resource_id = "endpoint/sagemakerpipeline-prod-pipeline-endpoint/variant/AllTraffic"
    assert register["ResourceId"] == policy["ResourceId"] == resource_id
    assert (register["MinCapacity"], register["MaxCapacity"]) == (2, 8)
    # A fixed policy name: a second run replaces the policy instead of adding one.
    assert policy["PolicyName"] == "invocations-per-instance"
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
    }
    assert graph["EndpointInService?"]["Choices"][0]["Next"] == "RegisterScalableTarget"


def test_dev_serves_from_a_serverless_endpoint_without_data_capture(dev_definition: dict) -> None:
    request = states(dev_definition)["CreateEndpointConfig"]["Parameters"]
    assert request["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName.$": "$.run.jobs.model",
            "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
        }
    ]
    assert "DataCaptureConfig" not in request and "KmsKeyId" in request
    assert "RegisterScalableTarget" not in states(dev_definition)


def test_prod_endpoint_runs_instances_and_captures_a_sample(prod: SynthesizedApp) -> None:
    request = states(definition_of(prod.template("pipeline"), "Approval"))["CreateEndpointConfig"]["Parameters"]
    (variant,) = request["ProductionVariants"]
    assert variant["InstanceType.$"] == "$.run.instances.endpoint.InstanceType" and "ServerlessConfig" not in variant
    capture = request["DataCaptureConfig"]
    assert capture["EnableCapture"] is True and capture["InitialSamplingPercentage"] == 20
    assert capture["KmsKeyId"] == request["KmsKeyId"]


def test_every_task_keeps_the_run_state(dev_definition: dict) -> None:
    # A task without ResultPath would replace the whole state (and `$.run`) with the API's response.
    for name, task in tasks(dev_definition).items():
        if name == "PrepareRun":
            assert task["ResultPath"] == "$" and task["ResultSelector"] == {"run.$": "$.Payload"}
            continue  # the plan replaces the raw input on purpose: every later state reads `$.run`
        assert "ResultPath" in task, name
        assert task["ResultPath"] is None or task["ResultPath"].startswith("$."), name


def test_an_update_rolled_back_by_an_alarm_is_a_failure_not_a_success(dev_definition: dict) -> None:
    poll = states(dev_definition)["EndpointInService?"]
    serving_new = poll["Choices"][0]
    assert serving_new["Next"] == "Summarize"
    assert {"Variable": "$.endpoint.config", "StringEqualsPath": "$.run.jobs.config"} in serving_new["And"]
    assert poll["Choices"][1] == {
        "Variable": "$.endpoint.status",
        "StringEquals": "InService",
        "Next": "DeploymentRolledBack",
    }
    rolled_back = states(dev_definition)["DeploymentRolledBack"]
    assert rolled_back["Parameters"]["Error"] == "DeploymentRolledBack" and rolled_back["Next"] == "DeployFailed"
