"""aws-sdk integrations take the SDK's parameters in PascalCase; an API whose botocore members are camelCase
(Step Functions: stateMachineArn, name, input) gets them under botocore's names, as on AWS."""

from __future__ import annotations

import json

from local_runner import LocalCloud

ROLE = "arn:aws:iam::123456789012:role/engine"


def _machine(client, name: str, states: dict, start: str) -> str:
    definition = json.dumps({"StartAt": start, "States": states})
    return client.create_state_machine(name=name, roleArn=ROLE, definition=definition)["stateMachineArn"]


def test_an_sdk_start_execution_starts_the_named_execution(tmp_path):
    with LocalCloud(tmp_path / "state", persist=False, time_scale=0.02, enforce_permissions=False) as cloud:
        client = cloud.client("stepfunctions")
        target = _machine(client, "target", {"Done": {"Type": "Succeed"}}, "Done")
        start = {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sfn:startExecution",
            "Parameters": {
                "StateMachineArn": target,
                "Name.$": "$.name",
                "Input.$": "States.JsonToString($.input)",
            },
            "ResultSelector": {"arn.$": "$.ExecutionArn"},
            "End": True,
        }
        caller = _machine(client, "caller", {"Start": start}, "Start")
        result = cloud.run(caller, {"name": "drift-1", "input": {"data": "s3://bucket/datasets/"}}, timeout=60)
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        (started,) = client.list_executions(stateMachineArn=target)["executions"]
        assert started["name"] == "drift-1" and result.output["arn"] == started["executionArn"]
        described = client.describe_execution(executionArn=started["executionArn"])
        assert json.loads(described["input"]) == {"data": "s3://bucket/datasets/"}
