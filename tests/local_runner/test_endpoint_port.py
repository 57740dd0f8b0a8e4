"""An endpoint keeps one URL (one port) while it exists: across updates, runs and restarts (issue 13)."""

from __future__ import annotations

import socket

import httpx
import pytest
from fixture_assembly import model_artifact_fixture, model_cloud_fixture, wait_for  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

ROW = (
    "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871,1.095,0.9053,8.589,153.4,0.006399,"
    "0.04904,0.05373,0.01587,0.03003,0.006193,25.38,17.33,184.6,2019,0.1622,0.6656,0.7119,0.2654,0.4601,0.1189"
)


def _config(sagemaker, name: str) -> None:
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": "fixture-model",
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])


def _settled(sagemaker, name: str) -> dict:
    return wait_for(
        lambda: sagemaker.describe_endpoint(EndpointName=name),
        lambda d: d["EndpointStatus"] not in ("Creating", "Updating"),
    )


def _answers(url: str) -> bool:
    response = httpx.post(f"{url}/invocations", content=ROW, headers={"Content-Type": "text/csv"}, timeout=30)
    return response.status_code == 200 and response.content.strip() != b""


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _created(cloud, name: str = "stable") -> str:
    sagemaker = cloud.client("sagemaker")
    _config(sagemaker, "first")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName="first")
    assert _settled(sagemaker, name)["EndpointStatus"] == "InService"
    return cloud.sagemaker.endpoint_url(name)


def test_an_update_keeps_the_endpoint_url_and_the_url_answers_after_it(model_cloud):
    sagemaker = model_cloud.client("sagemaker")
    url = _created(model_cloud)
    assert _answers(url)
    blue = model_cloud.sagemaker.store.get("endpoints", "stable")["local"]

    _config(sagemaker, "second")
    sagemaker.update_endpoint(EndpointName="stable", EndpointConfigName="second")
    described = _settled(sagemaker, "stable")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "second")
    assert model_cloud.sagemaker.store.get("endpoints", "stable")["local"]["pid"] != blue["pid"]  # a new fleet
    assert model_cloud.sagemaker.endpoint_url("stable") == url
    assert _answers(url)


def test_a_restart_after_a_reboot_reuses_the_port_and_delete_releases_it(model_cloud):
    url = _created(model_cloud)
    model_cloud.sagemaker.stop_endpoints()  # what a reboot does to the servers; the records stay
    model_cloud.sagemaker.restart_endpoints()
    assert model_cloud.sagemaker.endpoint_url("stable") == url
    assert _answers(url)

    model_cloud.client("sagemaker").delete_endpoint(EndpointName="stable")
    with socket.socket() as sock:  # released: anyone may bind it now
        sock.bind(("127.0.0.1", _port(url)))


def test_a_recorded_port_another_process_holds_fails_the_restart_naming_the_port_and_the_fix(model_cloud):
    url = _created(model_cloud)
    model_cloud.sagemaker.stop_endpoints()
    with socket.socket() as intruder:
        intruder.bind(("127.0.0.1", _port(url)))
        intruder.listen()
        model_cloud.sagemaker.restart_endpoints()
        described = model_cloud.client("sagemaker").describe_endpoint(EndpointName="stable")
    assert described["EndpointStatus"] == "Failed"
    reason = described["FailureReason"]
    assert str(_port(url)) in reason and "make stop" in reason, reason
