"""An endpoint keeps one URL (one port) while it exists: across updates, runs and restarts (issue 13)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx
import pytest
from fixture_assembly import (  # noqa: F401  (fixtures)
    ROW,
    endpoint_config,
    model_artifact_fixture,
    model_cloud_fixture,
    settled,
    wait_for,
)

pytestmark = pytest.mark.slow


def _answers(url: str) -> bool:
    response = httpx.post(f"{url}/invocations", content=ROW, headers={"Content-Type": "text/csv"}, timeout=30)
    return response.status_code == 200 and response.content.strip() != b""


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _created(cloud, name: str = "stable") -> str:
    sagemaker = cloud.client("sagemaker")
    endpoint_config(sagemaker, "first")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName="first")
    assert settled(sagemaker, name)["EndpointStatus"] == "InService"
    return cloud.sagemaker.endpoint_url(name)


def test_an_update_keeps_the_endpoint_url_and_the_url_answers_after_it(model_cloud):
    sagemaker = model_cloud.client("sagemaker")
    url = _created(model_cloud)
    assert _answers(url)
    blue = model_cloud.sagemaker.store.get("endpoints", "stable")["local"]

    endpoint_config(sagemaker, "second")
    sagemaker.update_endpoint(EndpointName="stable", EndpointConfigName="second")
    described = settled(sagemaker, "stable")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "second")
    assert model_cloud.sagemaker.store.get("endpoints", "stable")["local"]["pid"] != blue["pid"]  # a new fleet
    assert model_cloud.sagemaker.endpoint_url("stable") == url
    assert _answers(url)


def test_a_restart_after_a_reboot_reuses_the_port_and_delete_releases_it(model_cloud):
    from local_runner.sagemaker import port_claims

    url = _created(model_cloud)
    assert port_claims.held(_port(url), against="another-cloud")  # other processes' clouds skip it
    model_cloud.sagemaker.stop_endpoints()  # what a reboot does to the servers; the records stay
    model_cloud.sagemaker.restart_endpoints()
    assert model_cloud.sagemaker.endpoint_url("stable") == url
    assert _answers(url)

    model_cloud.client("sagemaker").delete_endpoint(EndpointName="stable")
    with socket.socket() as sock:  # released: anyone may bind it now
        sock.bind(("127.0.0.1", _port(url)))
    assert not port_claims.held(_port(url), against="another-cloud")  # and claim it


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
    assert f"held by pid {os.getpid()} (" in reason and "listening" in reason, reason  # who, without `ss`


def _ephemeral_range() -> range:
    low, high = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    return range(low, high + 1)


def test_the_endpoints_port_lies_outside_the_kernels_ephemeral_range(model_cloud):
    # A port from bind(0) is ephemeral: once released, the kernel hands it to the next bind(0) or outgoing
    # connection of any process (another endpoint's fleet, a test worker), and the endpoint's front then finds
    # its own recorded port taken. A port below the ephemeral range is never handed out that way.
    url = _created(model_cloud, "outside")
    assert _port(url) not in _ephemeral_range()
    assert _answers(url)


def test_a_new_endpoints_port_is_none_another_endpoint_has_recorded(tmp_path, monkeypatch):
    # an endpoint's port is recorded at CreateEndpoint and bound only when its fleet is healthy: a second endpoint
    # created in between found the port free to bind and took it too (seen: a front failed with "in use")
    from local_runner.sagemaker import endpoints

    ephemeral = tmp_path / "ip_local_port_range"
    ephemeral.write_text("20010\t60999\n")
    monkeypatch.setattr(endpoints, "_EPHEMERAL", ephemeral)
    taken = set(range(20000, 20009))
    assert endpoints.stable_port(taken=taken) == 20009
