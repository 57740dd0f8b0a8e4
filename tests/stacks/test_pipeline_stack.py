"""The stateless pipeline stack: failure handling wiring, roles, functions, triggers, no stateful resources."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SynthesizedApp

STATEFUL_TYPES = {
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::ECR::Repository",
    "AWS::SageMaker::ModelPackageGroup",
    "AWS::DynamoDB::Table",
}


TOPIC = "NotificationsTopicAE679CBD"


def _one(app: SynthesizedApp, resource_type: str) -> dict:
    (resource,) = app.resources("pipeline", resource_type).values()
    return resource


def test_deleting_the_pipeline_stack_cannot_delete_data(each_env: SynthesizedApp) -> None:
    pipeline = each_env.template("pipeline")["Resources"].values()
    assert not STATEFUL_TYPES & {r["Type"] for r in pipeline}
    storage = each_env.template("storage")["Resources"].values()
    for resource in storage:
        if resource["Type"] in STATEFUL_TYPES:
            assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain", resource["Type"]


def test_pipeline_reaches_storage_only_through_exports(each_env: SynthesizedApp) -> None:
    # CloudFormation refuses to delete an export that another stack imports: storage outlives the pipeline.
    text = json.dumps(each_env.template("pipeline"))
    assert f"SageMakerPipeline-{each_env.environment}-Storage:ExportsOutput" in text


def test_notification_topic_is_encrypted_and_mails_the_configured_address(
    prod: SynthesizedApp, dev: SynthesizedApp
) -> None:
    topic = _one(prod, "AWS::SNS::Topic")["Properties"]
    assert "Fn::ImportValue" in json.dumps(topic["KmsMasterKeyId"])
    (subscription,) = prod.resources("pipeline", "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "ml-platform-alerts@example.com"
    assert not dev.resources("pipeline", "AWS::SNS::Subscription")  # dev config has no e-mail


def test_backstop_rule_sends_failed_executions_to_the_failure_handler(each_env: SynthesizedApp) -> None:
    rules = [
        r["Properties"]
        for r in each_env.resources("pipeline", "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"].get("source") == ["aws.states"]
    ]
    (rule,) = rules
    pattern = rule["EventPattern"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert pattern["detail"]["status"] == ["FAILED", "TIMED_OUT", "ABORTED"]
    machines = [{"Ref": "WorkflowStateMachine8F1B1C15"}]
    if each_env.environment == "prod":  # the approval workflow fails into the same handling
        machines.append({"Ref": "ApprovalStateMachine5BF18DA7"})
    machines.append({"Ref": "ScoringStateMachineE8EB195E"})  # batch scoring too
    if each_env.environment == "prod":  # and the monitoring workflow, on where it is enabled
        machines.append({"Ref": "MonitoringWorkflowStateMachine431F1883"})
    assert pattern["detail"]["stateMachineArn"] == machines
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["FunctionsFailureHandlerF246E445", "Arn"]}
    assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 4


def test_failure_handler_has_a_dead_letter_queue_for_async_invocations(each_env: SynthesizedApp) -> None:
    handler = each_env.template("pipeline")["Resources"]["FunctionsFailureHandlerF246E445"]["Properties"]
    assert handler["DeadLetterConfig"]["TargetArn"] == {
        "Fn::GetAtt": ["FunctionsFailureHandlerDeadLettersDEB8D344", "Arn"]
    }
    queue = each_env.template("pipeline")["Resources"]["FunctionsFailureHandlerDeadLettersDEB8D344"]["Properties"]
    assert "KmsMasterKeyId" in queue


@pytest.mark.parametrize(
    "metric",
    ["Errors", "ApproximateNumberOfMessagesVisible", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"],
)
def test_alarms_notify_the_topic(each_env: SynthesizedApp, metric: str) -> None:
    alarms = [
        a["Properties"]
        for a in each_env.resources("pipeline", "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == metric
    ]
    # One alarm per state machine: training, scoring, and in prod the approval and monitoring workflows.
    machines = (4 if each_env.environment == "prod" else 2) if metric.startswith("Executions") else 1
    assert len(alarms) == machines
    assert alarms[0]["AlarmActions"] == [{"Ref": TOPIC}]
    assert alarms[0]["Threshold"] == 1


def test_failure_handler_gets_what_it_needs(each_env: SynthesizedApp) -> None:
    env = each_env.template("pipeline")["Resources"]["FunctionsFailureHandlerF246E445"]["Properties"]["Environment"][
        "Variables"
    ]
    assert set(env) >= {
        "FAILURE_RECORD_BUCKET",
        "FAILURE_RECORD_PREFIX",
        "NOTIFICATION_TOPIC_ARN",
        "PIPELINE_NAME",
        "ENVIRONMENT_NAME",
        "POWERTOOLS_SERVICE_NAME",
    }
    policy = each_env.template("pipeline")["Resources"]
    inspect = next(r for k, r in policy.items() if k.startswith("FailureHandlerInspectAndStop"))
    actions = {a for s in inspect["Properties"]["PolicyDocument"]["Statement"] for a in s["Action"]} | {
        s["Action"] for s in inspect["Properties"]["PolicyDocument"]["Statement"] if isinstance(s["Action"], str)
    }
    assert {
        "states:GetExecutionHistory",
        "sagemaker:StopTrainingJob",
        "sagemaker:StopProcessingJob",
        "sagemaker:StopHyperParameterTuningJob",
        "sagemaker:DeleteEndpoint",
    } <= actions


def test_state_machines_log_everything_encrypted_and_trace(each_env: SynthesizedApp) -> None:
    machines = each_env.resources("pipeline", "AWS::StepFunctions::StateMachine").values()
    assert len(machines) == {"dev": 2, "prod": 4}[each_env.environment]  # + scoring; + approval, monitoring in prod
    for machine in (m["Properties"] for m in machines):
        assert machine["StateMachineType"] == "STANDARD"
        assert machine["TracingConfiguration"] == {"Enabled": True}
        assert machine["LoggingConfiguration"]["Level"] == "ALL"
        assert machine["LoggingConfiguration"]["IncludeExecutionData"] is True
    for logical_id, group in each_env.resources("pipeline", "AWS::Logs::LogGroup").items():
        if logical_id.startswith("CustomCDKECRDeployment"):
            continue  # cdk-ecr-deployment's deploy-time log group (acknowledged in components/training_image.py)
        assert "KmsKeyId" in group["Properties"] and group["Properties"]["RetentionInDays"] in (30, 365)


def test_functions_trace_and_encrypt_their_environment(each_env: SynthesizedApp) -> None:
    for function in each_env.resources("pipeline", "AWS::Lambda::Function").values():
        props = function["Properties"]
        if props.get("Handler") != "handler.lambda_handler":
            continue  # cdk-ecr-deployment's copy function
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert "KmsKeyArn" in props
        assert any("AWSLambdaPowertoolsPythonV3-python313-x86_64:27" in json.dumps(layer) for layer in props["Layers"])


def test_prepare_run_gets_the_environments_defaults(each_env: SynthesizedApp) -> None:
    env = each_env.template("pipeline")["Resources"]["FunctionsPrepareRun023AB14C"]["Properties"]["Environment"][
        "Variables"
    ]
    defaults = json.loads(env["RUN_DEFAULTS"])
    assert defaults["tuning"]["max_jobs"] == {"dev": 8, "prod": 20}[each_env.environment]
    assert env["ENDPOINT_NAME"] == f"sagemakerpipeline-{each_env.environment}-pipeline-endpoint"


def test_new_data_trigger_starts_a_run_with_the_objects_uri(dev: SynthesizedApp, prod: SynthesizedApp) -> None:
    rules = [
        r["Properties"]
        for r in dev.resources("pipeline", "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"].get("source") == ["aws.s3"]
    ]
    (rule,) = rules
    assert rule["EventPattern"]["detail"]["object"] == {"key": [{"prefix": "incoming/"}]}
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": "WorkflowStateMachine8F1B1C15"}
    assert target["InputTransformer"]["InputPathsMap"] == {"detail-object-key": "$.detail.object.key"}
    bucket = dev.template("storage")["Resources"]["DataBucketE6B0FAA8"]["Properties"]
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    assert not [
        r
        for r in prod.resources("pipeline", "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"].get("source") == ["aws.s3"]
    ]


def test_stack_outputs_for_starting_runs(each_env: SynthesizedApp) -> None:
    assert {"StateMachineArn", "EndpointName"} <= set(each_env.template("pipeline")["Outputs"])
    assert {"DataBucketName", "ArtifactsBucketName"} <= set(each_env.template("storage")["Outputs"])


def test_rollback_alarms_watch_the_endpoints_errors_and_latency(each_env: SynthesizedApp) -> None:
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in each_env.resources("pipeline", "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/SageMaker"
    }
    assert set(alarms) == {"Invocation5XXErrors", "ModelLatency"}
    endpoint = f"sagemakerpipeline-{each_env.environment}-pipeline-endpoint"
    for alarm in alarms.values():
        assert {"Name": "EndpointName", "Value": endpoint} in alarm["Dimensions"]
        assert alarm["AlarmActions"] == [{"Ref": TOPIC}]
    assert alarms["ModelLatency"]["ExtendedStatistic"] == "p99"


def test_dashboard_shows_runs_endpoint_and_functions(each_env: SynthesizedApp) -> None:
    (dashboard,) = each_env.resources("pipeline", "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in (
        "ExecutionsStarted",
        "ExecutionsFailed",
        "ExecutionTime",
        "Invocations",
        "ModelLatency",
        "Invocation4XXErrors",
        "Invocation5XXErrors",
        "CPUUtilization",
        "MemoryUtilization",
        "Errors",
        "ServiceIntegrationTime",  # step durations
        "ServiceIntegrationsStarted",  # jobs per kind
        "ServiceIntegrationsFailed",
    ):
        assert metric in body, metric
    for api in ("createProcessingJob", "createTrainingJob", "createHyperParameterTuningJob", "createTransformJob"):
        assert f":states:::sagemaker:{api}.sync" in body, api
    assert "Batch scoring executions" in body
