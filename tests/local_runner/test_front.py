"""The endpoint front (front.py, front_server.py) without processes: its route, its refusal of a taken port."""

from __future__ import annotations

import asyncio
import socket
from types import SimpleNamespace

import pytest

from local_runner.sagemaker import endpoints, front
from local_runner.sagemaker.front_server import Front


class _Protocol:
    """What Granian hands an RSGI application: the body when awaited, and the response methods."""

    def __init__(self, body: bytes = b""):
        self.body = body
        self.response: tuple[int, list, str] | None = None

    async def __call__(self) -> bytes:
        return self.body

    def response_str(self, status: int, headers: list, text: str) -> None:
        self.response = (status, headers, text)


def test_a_taken_port_is_refused_naming_the_port_and_how_to_free_it():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(endpoints.DeploymentError) as refused:
            front.check_free(port, "stable")
    message = str(refused.value)
    assert f"Port {port}" in message and "stable" in message and "make stop" in message


def test_the_front_follows_its_route_file_and_a_dead_fleet_is_a_clear_502(tmp_path):
    dead = endpoints.free_port()  # nothing listens there
    front.write_route(tmp_path, "http://127.0.0.1:1")
    app = Front(tmp_path / front.ROUTE_FILE)
    assert app.target() == "http://127.0.0.1:1"
    front.write_route(tmp_path, f"http://127.0.0.1:{dead}")
    assert app.target() == f"http://127.0.0.1:{dead}"  # a new route is read without a restart

    protocol = _Protocol(b"1,2,3")
    scope = SimpleNamespace(method="POST", path="/invocations", query_string="", headers={"content-type": "text/csv"})
    asyncio.run(app.__rsgi__(scope, protocol))
    status, _, text = protocol.response
    assert status == 502 and "did not answer" in text
