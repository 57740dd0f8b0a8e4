"""Prod end to end: a run registers its model for manual approval; approving it starts the approval
workflow through the template's own EventBridge rule, and that workflow deploys the approved model."""

from __future__ import annotations

import json

import boto3
import pytest
from pipeline_harness import execution_input, stack_resources

from local_runner import LocalCloud, s3
from local_runner.events import LocalEventBus, Rule, Target, matches

pytestmark = pytest.mark.slow


def _approval_arn(cloud: LocalCloud) -> str:
    return next(arn for logical_id, arn in cloud.state_machines.items() if logical_id.startswith("Approval"))


def test_approving_a_registered_model_deploys_it(tmp_path, prod_assembly, dataset, snapshot) -> None:
    cloud = LocalCloud(tmp_path / "state", code_dir=snapshot, persist=False, time_scale=0.02)
    with cloud:
        cloud.deploy(prod_assembly)
        resources = stack_resources(cloud, env="prod")
        data = f"s3://{resources.data_bucket}/datasets/breast_cancer.csv"
        s3.upload_file(dataset, data)
        try:
            payload = execution_input(data, tuning=False, threshold=0.5)
            result = cloud.run(resources.state_machine_arn, payload, timeout=300)
            assert result.status == "SUCCEEDED", (result.error, result.cause)
            assert result.output["status"] == "REGISTERED"
            package = result.output["model_package_arn"]
            sagemaker = boto3.client("sagemaker", region_name="us-east-1")
            assert sagemaker.describe_model_package(ModelPackageName=package)["ModelApprovalStatus"] == (
                "PendingManualApproval"
            )
            assert not sagemaker.list_endpoints()["Endpoints"]  # nothing serves before a person approves

            sagemaker.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved")

            sfn = boto3.client("stepfunctions", region_name="us-east-1")
            executions = sfn.list_executions(stateMachineArn=_approval_arn(cloud))["executions"]
            assert len(executions) == 1  # started by the rule, with the package from the event
            arn = executions[0]["executionArn"]
            assert json.loads(sfn.describe_execution(executionArn=arn)["input"]) == {"model_package_arn": package}
            cloud.wait(arn, timeout=180)
            deployed = cloud.result(arn, {"model_package_arn": package})
            assert deployed.status == "SUCCEEDED", (deployed.error, deployed.cause)
            (endpoint,) = sagemaker.list_endpoints()["Endpoints"]
            assert deployed.output == {
                "status": "DEPLOYED",
                "model_package_arn": package,
                "endpoint_name": endpoint["EndpointName"],
            }
            assert endpoint["EndpointStatus"] == "InService"
            answer = boto3.client("sagemaker-runtime", region_name="us-east-1").invoke_endpoint(
                EndpointName=endpoint["EndpointName"],
                ContentType="text/csv",
                Accept="application/json",
                Body=",".join(["1"] * 30),
            )
            assert "predictions" in json.loads(answer["Body"].read())
        finally:
            cloud.sagemaker.stop_endpoints()


def test_rule_matching_and_input_transformation() -> None:
    pattern = {
        "source": ["aws.sagemaker"],
        "detail": {"ModelApprovalStatus": ["Approved"], "Key": [{"prefix": "incoming/"}]},
    }
    event = {"source": "aws.sagemaker", "detail": {"ModelApprovalStatus": "Approved", "Key": "incoming/a.csv"}}
    assert matches(pattern, event)
    assert not matches(pattern, {**event, "detail": {**event["detail"], "ModelApprovalStatus": "Rejected"}})
    started = []
    target = Target(
        arn="arn:sm",
        paths={"key": "$.detail.Key", "status": "$.detail.ModelApprovalStatus"},
        template='{"data":"s3://bucket/<key>","status":<status>}',
    )
    bus = LocalEventBus(lambda arn, payload: started.append((arn, payload)) or "execution")
    bus.add(Rule("r", pattern, (target,)))
    assert bus.put_event(event) == ["execution"]
    assert started == [("arn:sm", {"data": "s3://bucket/incoming/a.csv", "status": "Approved"})]


def test_a_prod_run_names_the_local_approval_command_and_it_deploys(tmp_path, prod_assembly, capsys) -> None:
    from local_runner.cli import main

    argv = ["--env", "prod", "--cdk-out", str(prod_assembly.directory), "--state-dir", str(tmp_path / "state")]
    try:
        assert main(["approve", *argv]) == 1
        assert "No model is waiting for approval" in capsys.readouterr().out
        assert main(["run", "--no-tuning", "--threshold", "0.5", "--time-scale", "0.01", *argv]) == 0
        out = capsys.readouterr().out
        assert "Approve and deploy it with: python -m local_runner approve --env prod (make approve ENV=prod)" in out
        assert main(["approve", "--time-scale", "0.01", *argv]) == 0
        out = capsys.readouterr().out
        assert "the approval workflow deploys it" in out and "is InService at http://127.0.0.1:" in out
        assert main(["approve", *argv]) == 1  # approved once: nothing waits any more
    finally:
        main(["stop", "--state-dir", str(tmp_path / "state")])
