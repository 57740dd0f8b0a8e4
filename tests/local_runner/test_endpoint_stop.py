"""Stopping a server returns once none of its processes holds its port: the next server may bind it at once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from local_runner.sagemaker import endpoints

# A server like Granian's: a leader that ends at SIGTERM at once, and a worker that holds the listening socket
# for a while after it (it drains its connections).
SERVER = """
import os, signal, socket, sys, time
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen()
if os.fork() == 0:
    signal.signal(signal.SIGTERM, lambda *_: (time.sleep(1.5), os._exit(0)))
    while True:
        time.sleep(1)
listener.close()
print("ready", flush=True)
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
while True:
    time.sleep(1)
"""


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_stop_returns_once_the_workers_that_outlive_the_leader_have_released_the_port(tmp_path):
    port = endpoints.free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "SAGEMAKER_BASE_DIR": str(tmp_path)},
    )
    assert server.stdout.readline().strip() == "ready"
    started = time.monotonic()
    endpoints.stop({"pid": server.pid, "directory": str(tmp_path)})
    assert _bindable(port), "stop returned while a worker of the server still held its port"
    assert time.monotonic() - started < 5 + 2  # the worker ended on its own; SIGKILL only after the grace
    server.wait(timeout=5)
