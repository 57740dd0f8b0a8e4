"""Sessions of one process share botocore's loader: a service's model files are read once, not per session.

moto resets boto3's default session whenever a mock starts, and each new session parsed the JSON models of
every service it made a client for again (about 0.14 s of CPU for six services, in every local cloud)."""

from __future__ import annotations

import boto3
import botocore.loaders

from local_runner import boto_sessions
from local_runner.cloud import LocalCloud


def _counting_loads(monkeypatch) -> list[str]:
    loads: list[str] = []
    original = botocore.loaders.JSONFileLoader.load_file

    def counting(self, file_path):
        loads.append(file_path)
        return original(self, file_path)

    monkeypatch.setattr(botocore.loaders.JSONFileLoader, "load_file", counting)
    return loads


def test_a_second_session_reads_no_service_model_again(monkeypatch):
    loads = _counting_loads(monkeypatch)
    boto_sessions.session("us-east-1").client("sagemaker", aws_access_key_id="a", aws_secret_access_key="b")
    loads.clear()
    boto_sessions.session("eu-west-1").client("sagemaker", aws_access_key_id="a", aws_secret_access_key="b")
    assert loads == []


def test_a_second_cloud_reads_no_service_model_again(tmp_path, monkeypatch):
    # each cloud's mock start resets boto3's default session; the clients made after it share the loader
    first = LocalCloud(tmp_path / "first")
    first.start()
    try:
        boto3.client("sagemaker", region_name="us-east-1")
        first.session().client("sagemaker")
    finally:
        first.stop()
    loads = _counting_loads(monkeypatch)
    second = LocalCloud(tmp_path / "second")
    second.start()
    try:
        boto3.client("sagemaker", region_name="us-east-1")
        second.session().client("sagemaker")
        assert loads == []
    finally:
        second.stop()


def test_a_second_cloud_reuses_the_first_ones_clients_and_they_see_only_its_state(tmp_path):
    # a client costs about as much to build as many calls make; the hooks and moto's stubber are process-wide
    first = LocalCloud(tmp_path / "first")
    first.start()
    try:
        sns = first.client("sns")
        sns.create_topic(Name="only-in-the-first-cloud")
    finally:
        first.stop()
    second = LocalCloud(tmp_path / "second")
    second.start()
    try:
        assert second.client("sns") is sns
        assert sns.list_topics()["Topics"] == []
        sns.create_topic(Name="in-the-second-cloud")
        assert [t["TopicArn"].rsplit(":", 1)[1] for t in second.client("sns").list_topics()["Topics"]] == [
            "in-the-second-cloud"
        ]
    finally:
        second.stop()


def test_the_interpreters_task_clients_are_made_once_per_region_and_service():
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk

    from local_runner import interpreter, task_clients

    interpreter.install()
    assert state_task_service_aws_sdk.boto_client_for is task_clients.boto_client_for
    made = task_clients.boto_client_for(region="us-east-1", service="sns")
    assert task_clients.boto_client_for(region="us-east-1", service="sns") is made
    assert task_clients.boto_client_for(region="eu-west-1", service="sns") is not made


def test_a_task_states_credentials_get_one_client_per_role():
    """moto passes the state's credentials (the execution role) for every aws-sdk task: a client each time
    cost about 2% of a test worker's CPU."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import StateCredentials

    from local_runner import task_clients

    role, other = (StateCredentials(role_arn=f"arn:aws:iam::123456789012:role/{name}") for name in ("a", "b"))
    made = task_clients.boto_client_for(region="us-east-1", service="sns", state_credentials=role)
    again = StateCredentials(role_arn=role.role_arn)
    assert task_clients.boto_client_for(region="us-east-1", service="sns", state_credentials=again) is made
    assert task_clients.boto_client_for(region="us-east-1", service="sns", state_credentials=other) is not made
