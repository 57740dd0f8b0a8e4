"""The synthesized pipeline on more than one instance per job: 2-instance processing and 2-instance tuning jobs
that deploy a model, and the refusal of 2 instances for an algorithm that cannot distribute."""

from __future__ import annotations

import boto3
import pytest
from pipeline_harness import _deploys, _endpoints, execution_input

pytestmark = pytest.mark.slow

ROW = (
    "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871,1.095,0.9053,8.589,153.4,0.006399,"
    "0.04904,0.05373,0.01587,0.03003,0.006193,25.38,17.33,184.6,2019,0.1622,0.6656,0.7119,0.2654,0.4601,0.1189"
)
TWO = {"instance_counts": {"processing": 2, "training": 2}}


def test_two_instance_processing_and_two_instance_tuning_jobs_deploy_a_model(run, request):
    _deploys(run, request)
    payload = execution_input(run.data_uri, tuning=True, max_jobs=2, parallel=1, threshold=0.8, extra=TWO)
    store = run.cloud.sagemaker.store
    try:  # each job runs 2 processes on the shared machine: more time than the harness's 300 s
        result = run.cloud.run(run.arn, payload, timeout=900)
    except TimeoutError:
        jobs = store.values("processing_jobs") + store.values("training_jobs")
        names = [(j.get("ProcessingJobName") or j.get("TrainingJobName"), j.get("LocalHostStatus")) for j in jobs]
        pytest.fail(f"the run did not end in 900 s; jobs and their hosts: {names}")
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["status"] == "DEPLOYED"
    [process] = [j for j in store.values("processing_jobs") if j["ProcessingJobName"].startswith("process-")]
    assert process["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 2
    assert process["LocalHostStatus"] == {"algo-1": "Completed", "algo-2": "Completed"}
    [tuning] = store.values("tuning_jobs")
    assert tuning["TrainingJobDefinition"]["ResourceConfig"]["InstanceCount"] == 2
    jobs = store.values("training_jobs")
    assert len(jobs) >= 2
    for job in jobs:
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
        assert job["ResourceConfig"]["InstanceCount"] == 2
        assert job["LocalHostStatus"] == {"algo-1": "Completed", "algo-2": "Completed"}
    [endpoint] = _endpoints(run)
    assert endpoint["EndpointStatus"] == "InService"
    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1")
    answer = runtime.invoke_endpoint(EndpointName=endpoint["EndpointName"], ContentType="text/csv", Body=ROW)
    assert answer["Body"].read()


def test_a_non_distributable_algorithm_on_two_instances_is_refused_before_the_execution_starts_a_job(run):
    result = run(algorithm="ridge", tuning=False, extra={"instance_counts": {"training": 2}})
    assert result.status == "FAILED" and result.error == "InvalidExecutionInput"
    assert "'ridge' trains on one instance only" in result.cause and "xgboost" in result.cause
    assert "Process" not in result.visited
    assert run.cloud.sagemaker.store.values("processing_jobs") == []
