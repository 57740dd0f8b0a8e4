"""Connection-level hostility against a real Granian server on loopback.

Floods of connections that send nothing or send a body a byte at a time, keep-alive after every kind of error,
and SIGTERM with slow bodies open. Deadlines are shortened through the environment so the suite stays quick.
"""

from __future__ import annotations

import contextlib
import os
import resource
import selectors
import signal
import socket
import subprocess
import time

import httpx
import pytest
from conftest import csv_rows, free_port, split, start_server, wait_for_ping

pytestmark = pytest.mark.slow

WORKERS = 2
#: The review's figures: 2,100 of each, against 1,024 connections per worker before the fix.
IDLE = SLOW = 2100
DEADLINES = {
    "SAGEMAKER_MODEL_SERVER_WORKERS": str(WORKERS),
    "MODEL_SERVER_HEADER_TIMEOUT": "3",
    "MODEL_SERVER_BODY_TIMEOUT": "3",
    "MODEL_SERVER_GRACE_PERIOD": "3",
}
SLOW_HEAD = b"POST /invocations HTTP/1.1\r\nHost: test\r\nContent-Type: text/csv\r\nContent-Length: 1000\r\n\r\n1"


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


@contextlib.contextmanager
def _server(base, log_dir, **env):
    port = free_port()
    with (log_dir / "server.log").open("w") as log:
        process = start_server(base, port, log=log, **{**DEADLINES, **env})
        try:
            wait_for_ping(port, process)
            yield port, process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # main and workers, never orphans
            process.wait()


@pytest.fixture(scope="module")
def shared_server(classifier_dir, tmp_path_factory):
    with _server(classifier_dir.parent, tmp_path_factory.mktemp("server")) as (port, _):
        yield port


def _open(port: int, count: int, first_bytes: bytes) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        if first_bytes:
            sock.sendall(first_bytes)
        sockets.append(sock)
    return sockets


def _wait_closed(sockets: list[socket.socket], seconds: float) -> tuple[list[socket.socket], list[bytes]]:
    """Read every socket until the server closes it; return the ones still open after ``seconds``."""
    selector = selectors.DefaultSelector()
    answers = {}
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        answers[sock] = b""
    deadline = time.monotonic() + seconds
    while answers.keys() - {None} and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            sock = key.fileobj
            try:
                data = sock.recv(65536)
            except ConnectionError:
                data = b""
            if data:
                answers[sock] += data
                continue
            selector.unregister(sock)
            yield_answer = answers.pop(sock)
            answers.setdefault(None, []).append(yield_answer)
    closed_answers = answers.pop(None, [])
    selector.close()
    return list(answers), closed_answers


def test_idle_and_slow_body_floods_keep_ping_answering_and_are_closed(classifier_dir, tmp_path):
    _raise_fd_limit(2 * (IDLE + SLOW) + 512)
    with _server(classifier_dir.parent, tmp_path) as (port, _):
        idle = _open(port, IDLE, b"")
        slow = _open(port, SLOW, SLOW_HEAD)
        try:
            with httpx.Client(timeout=10) as client:  # fresh connections, after the flood is in
                for _ in range(3):
                    assert client.get(f"http://127.0.0.1:{port}/ping").status_code == 200
            _, (x, _) = split("breast_cancer")
            answer = httpx.post(
                f"http://127.0.0.1:{port}/invocations",
                content=csv_rows(x[:1]),
                headers={"content-type": "text/csv"},
                timeout=10,
            )
            assert answer.status_code == 200
            still_open, answers = _wait_closed(idle + slow, seconds=30)
            assert not still_open, f"{len(still_open)} of {IDLE + SLOW} connections never closed"
            statuses = [a.split(b" ", 2)[1] for a in answers if a]
            assert set(statuses) == {b"408"} and len(statuses) == SLOW, (len(statuses), set(statuses))
        finally:
            for sock in idle + slow:
                sock.close()


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("POST", "/invocations", {"content-type": "image/png"}, 415),
        ("POST", "/invocations", {"content-type": "text/csv", "accept": "image/png"}, 406),
        ("POST", "/nope", {"content-type": "text/csv"}, 404),
        ("POST", "/ping", {"content-type": "text/csv"}, 405),
        ("POST", "/invocations", {"content-type": "text/csv"}, 400),  # not numbers
        ("GET", "/ping", {"content-type": "text/csv"}, 200),  # a body nobody reads
    ],
)
def test_keep_alive_survives_every_error(shared_server, method, path, headers, status):
    _, (x, _) = split("breast_cancer")
    good = csv_rows(x[:1])
    port = shared_server
    with httpx.Client(timeout=10) as client:  # one keep-alive connection for all the requests
        for _ in range(150):
            first = client.request(method, f"http://127.0.0.1:{port}{path}", content=b"x" * 70_000, headers=headers)
            assert first.status_code == status
            answer = client.post(
                f"http://127.0.0.1:{port}/invocations", content=good, headers={"content-type": "text/csv"}
            )
            assert answer.status_code == 200


def test_sigterm_with_slow_bodies_open_stops_within_the_grace_period(classifier_dir, tmp_path):
    with _server(classifier_dir.parent, tmp_path) as (port, process):
        slow = _open(port, 50, SLOW_HEAD)
        try:
            process.send_signal(signal.SIGTERM)
            # grace 3 s here; before the fix Granian waited SAGEMAKER_MODEL_SERVER_TIMEOUT (60 s) per worker
            assert process.wait(timeout=30) == 0
        except subprocess.TimeoutExpired:
            pytest.fail("SIGTERM did not stop the server within 30 s")
        finally:
            for sock in slow:
                sock.close()


def test_sigterm_while_a_worker_is_still_loading_the_model_stops_the_server_at_once(classifier_dir, tmp_path):
    """A worker loads the model before Granian gives it its own signal handlers. Until then it holds the main
    process's, which only flag the main process's copy of the server: a SIGTERM in that window was lost, and
    shutdown waited out the grace period (found timing `endpoints.stop` right after a deployment)."""
    import psutil

    port = free_port()
    with (tmp_path / "server.log").open("w") as log:
        process = start_server(classifier_dir.parent, port, log=log, **{**DEADLINES, "MODEL_SERVER_GRACE_PERIOD": "30"})
        try:
            leader = psutil.Process(process.pid)
            deadline = time.monotonic() + 30
            while len(leader.children()) < WORKERS:  # the last worker was just forked: it is loading the model
                assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.001)
            os.killpg(process.pid, signal.SIGTERM)  # what endpoints.stop sends: the leader and its workers
            started = time.monotonic()
            process.wait(timeout=60)
            # the grace period is 30 s: stopping in less than half of it means no worker's signal was lost
            assert time.monotonic() - started < 15, (tmp_path / "server.log").read_text()
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
