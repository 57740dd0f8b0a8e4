"""Issue 6, end to end: every failing step ends as designed.

Each scenario runs the synthesized pipeline through the local runner and proves the whole failure path:
the execution FAILED with `<Step>Failed` and the job's FailureReason in the cause; the failure handler's
record is in the artifacts bucket under `failures/<execution name>/failure.json` naming step, job and
reason; the notification reached an SQS queue subscribed to the pipeline's SNS topic; and the failed
run's intermediate outputs are still under `runs/<run id>/`.
"""

from __future__ import annotations

import json

import boto3
import pytest
from pipeline_harness import _deploys, execution_input

from local_runner.validation import ServiceError

pytestmark = pytest.mark.slow

REGION = "us-east-1"


class FailurePath:
    """What the failure handler writes to: its bucket and prefix, and an SQS queue on its SNS topic."""

    def __init__(self, run):
        handler = next(f for f in run.cloud.lambdas.functions.values() if "NOTIFICATION_TOPIC_ARN" in f.environment)
        self.bucket = handler.environment["FAILURE_RECORD_BUCKET"]
        prefix = handler.environment.get("FAILURE_RECORD_PREFIX", "failures/")
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.topic = handler.environment["NOTIFICATION_TOPIC_ARN"]
        self.s3 = boto3.client("s3", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        assert self.topic in [t["TopicArn"] for t in sns.list_topics()["Topics"]], "the topic was not deployed"
        self.queue = self.sqs.create_queue(QueueName="failure-inbox")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=self.topic, Protocol="sqs", Endpoint=queue_arn)

    def record(self, execution_name: str) -> dict:
        key = f"{self.prefix}{execution_name}/failure.json"
        return json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def records(self) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix)
        return [o["Key"] for o in listed.get("Contents", [])]

    def messages(self) -> list[dict]:
        """Every notification so far, as SNS delivers it to SQS (the JSON envelope with Subject and Message)."""
        found = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])

    def run_keys(self, run_id: str) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=f"runs/{run_id}/")
        return [o["Key"] for o in listed.get("Contents", [])]


@pytest.fixture
def failures(run):
    return FailurePath(run)


def _execution_name(result) -> str:
    return result.arn.rsplit(":", 1)[-1]


def _assert_failed_as_designed(result, failures: FailurePath, step: str, job_type: str, reason: str) -> dict:
    """The Fail state, the record and the notification all name the step, the job and the reason."""
    assert result.status == "FAILED", (result.status, result.visited)
    assert result.visited[-3:] == [f"{step}Failed", "HandleFailure", "PipelineFailed"], result.visited
    assert result.error == f"{step}Failed", (result.error, result.cause)
    assert reason in result.cause, result.cause
    assert f"Step {step} " in result.cause, result.cause

    name = _execution_name(result)
    record = failures.record(name)
    assert record["execution_name"] == name
    assert record["execution_arn"] == result.arn
    assert record["source"] == "catch"
    assert record["step"] == step
    assert record["job"]["type"] == job_type
    job = record["job"]["name"]
    assert job and job in result.cause
    assert reason in record["job"]["failure_reason"]
    assert reason in record["reason"]
    assert record["fail_state"] == {"error": result.error, "cause": result.cause}
    assert record["notified"] is True and record["message_id"]
    assert record["record_uri"] == f"s3://{failures.bucket}/{failures.prefix}{name}/failure.json"
    assert failures.records() == [f"{failures.prefix}{name}/failure.json"], "exactly one record"

    [message] = failures.messages()
    assert message["TopicArn"] == failures.topic
    assert message["MessageId"] == record["message_id"]
    assert step in message["Subject"], message["Subject"]
    assert len(message["Subject"]) <= 100  # SNS rejects longer subjects
    body = message["Message"]
    for expected in (step, job, reason, name):
        assert expected in body, (expected, body)
    return record


def _run_id(record: dict) -> str:
    return record["input"]["run"]["id"]


def _not_numeric_rows() -> list[list]:
    rows = [[i % 2, 1.0 + i, 2.0 * i, 3.5, 0.25 * i] for i in range(60)]
    rows[17][3] = "abc"
    return rows


def test_processing_fails_on_a_non_numeric_value_with_the_containers_reason(run, failures):
    bad = run.upload("not_numeric.csv", _not_numeric_rows())
    result = run(execution_input(bad, tuning=False))
    [job] = run.cloud.sagemaker.store.values("processing_jobs")
    assert job["ProcessingJobStatus"] == "Failed"
    reason = job["FailureReason"]
    # the container's own words, not an injection
    assert "'abc' is not a number" in reason and "line 18" in reason, reason
    record = _assert_failed_as_designed(result, failures, "Process", "processing", reason)
    assert record["job"]["name"] == job["ProcessingJobName"]
    # a failed processing job uploads no outputs; the run's input stays where it was
    assert not any(k.startswith(f"runs/{_run_id(record)}/processing/") for k in failures.run_keys(_run_id(record)))
    bucket, key = bad[len("s3://") :].split("/", 1)
    assert failures.s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0


def test_bad_training_data_fails_train_and_keeps_the_processed_data(run, failures):
    rows = [[i % 3, *([1.5 + i] * 4)] for i in range(120)]  # three classes where binary:logistic expects two
    bad = run.upload("three_classes.csv", rows)
    result = run(execution_input(bad, tuning=False, extra={"algorithm": "xgboost"}))
    [job] = [j for j in run.cloud.sagemaker.store.values("training_jobs") if j["TrainingJobStatus"] == "Failed"]
    reason = job["FailureReason"]
    assert not reason.startswith("AlgorithmError: exit code"), "the container wrote no failure file"
    record = _assert_failed_as_designed(result, failures, "Train", "training", reason)
    assert record["job"]["name"] == job["TrainingJobName"]
    assert record["job"]["status"] == "Failed"
    keys = failures.run_keys(_run_id(record))
    for channel in ("train", "validation", "test"):
        assert any(k.startswith(f"runs/{_run_id(record)}/processing/{channel}/") for k in keys), (channel, keys)


def test_a_tuning_job_whose_every_training_job_fails_fails_tune(run, failures):
    run.cloud.faults.fail_job("training", "tune-*", "AlgorithmError: injected training failure")
    result = run(tuning=True, max_jobs=2, parallel=2)
    [tuning] = run.cloud.sagemaker.store.values("tuning_jobs")
    assert tuning["HyperParameterTuningJobStatus"] == "Failed"
    trained = run.cloud.sagemaker.store.values("training_jobs")
    assert len(trained) == 2 and all(j["TrainingJobStatus"] == "Failed" for j in trained)
    reason = "AlgorithmError: injected training failure"
    assert reason in tuning["FailureReason"]
    record = _assert_failed_as_designed(result, failures, "Tune", "tuning", reason)
    assert record["job"]["name"] == tuning["HyperParameterTuningJobName"]
    keys = failures.run_keys(_run_id(record))
    assert any(k.startswith(f"runs/{_run_id(record)}/processing/train/") for k in keys), keys


def test_an_endpoint_that_fails_its_health_check_fails_deploy_and_is_cleaned_up(run, failures, request):
    _deploys(run, request)
    reason = "The primary container did not pass the ping health check."
    run.cloud.faults.fail_endpoint("*", reason)
    result = run(tuning=False)
    record = _assert_failed_as_designed(result, failures, "Deploy", "endpoint", reason)
    assert record["job"]["name"] == run.resources.endpoint_name
    assert record["job"]["action"] == "create"
    # the handler deletes an endpoint whose creation failed; nothing is left serving
    assert record["stopped"] == [f"endpoint/{record['job']['name']}"]
    assert run.cloud.sagemaker.store.values("endpoints") == []
    # the trained model stays where the run put it
    keys = failures.run_keys(_run_id(record))
    assert any(k.endswith("/output/model.tar.gz") for k in keys), keys


def test_a_throttled_failure_handler_invocation_is_retried_and_records_once(run, failures):
    """Lambda throttling on the failure path: HandleFailure retries, one record, one message."""
    run.cloud.faults.fail_job("processing", "process-*", "ClientError: injected processing failure")
    handler = next(f for f in run.cloud.lambdas.functions.values() if "NOTIFICATION_TOPIC_ARN" in f.environment)
    throttled = []

    def throttle_the_handler_once(service, operation, params):  # the router's fault seam, for one function
        target = params.get("FunctionName") in (handler.arn, handler.name)
        if service == "lambda" and operation == "Invoke" and target and not throttled:
            throttled.append(params["FunctionName"])
            raise ServiceError("TooManyRequestsException", "Rate exceeded", 429)

    run.cloud.router.checks.append(throttle_the_handler_once)
    result = run(tuning=False)
    assert throttled, "the failure handler was never invoked"
    assert result.state("HandleFailure").attempts == 2, result.state("HandleFailure")
    failed = [e["taskFailedEventDetails"]["error"] for e in result.history if e["type"] == "TaskFailed"]
    assert "Lambda.TooManyRequestsException" in failed, failed
    _assert_failed_as_designed(result, failures, "Process", "processing", "ClientError: injected processing failure")


def test_a_throttled_sdk_call_succeeds_on_retry_and_nothing_is_recorded(run, failures, request):
    _deploys(run, request)
    run.cloud.faults.throttle("ListEndpoints", times=1)
    result = run(tuning=False)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.state("FindEndpoint").attempts == 2
    failed = [e for e in result.history if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["SageMaker.ThrottlingException"]
    assert "HandleFailure" not in result.visited
    assert failures.records() == [] and failures.messages() == []


def test_a_failed_update_fails_deploy_and_leaves_the_endpoint_alone(run, failures, request):
    """A failed UpdateEndpoint is recorded and announced; the handler never deletes an updated endpoint."""
    _deploys(run, request)
    first = run(tuning=False)
    assert first.status == "SUCCEEDED", (first.error, first.cause)
    [deployed] = run.cloud.sagemaker.store.values("endpoints")
    reason = "The primary container for production variant AllTraffic did not pass the ping health check."
    run.cloud.faults.fail_endpoint(deployed["EndpointName"], reason)
    result = run(tuning=False)
    assert "UpdateEndpoint" in result.visited and "CreateEndpoint" not in result.visited
    record = _assert_failed_as_designed(result, failures, "Deploy", "endpoint", reason)
    assert record["job"] == {**record["job"], "name": deployed["EndpointName"], "action": "update"}
    assert record["stopped"] == []
    [kept] = run.cloud.sagemaker.store.values("endpoints")
    assert kept["EndpointName"] == deployed["EndpointName"]
    assert kept["EndpointConfigName"] == deployed["EndpointConfigName"]  # still the first run's model
