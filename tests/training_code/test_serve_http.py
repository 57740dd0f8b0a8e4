"""``python -m training_code serve`` as SageMaker runs it: a real Granian server in a subprocess."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import httpx
import orjson
import pytest
from conftest import REPO, csv_rows, free_port, split

pytestmark = pytest.mark.slow


def _start(base, port, **env):
    environment = {**os.environ, "SAGEMAKER_BASE_DIR": str(base), "SAGEMAKER_BIND_TO_PORT": str(port),
                   "SAGEMAKER_BIND_HOST": "127.0.0.1", "SAGEMAKER_MODEL_SERVER_WORKERS": "1", **env}
    environment.pop("SM_MODEL_DIR", None)
    # its own process group, so cleanup can stop Granian's workers too, never leaving orphans
    return subprocess.Popen([sys.executable, "-m", "training_code", "serve"], cwd=REPO, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _wait_for_ping(port, process, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                return time.monotonic()
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("no /ping within 15 s")


def test_serve_end_to_end_and_graceful_sigterm(classifier_dir):
    base = classifier_dir.parent
    port = free_port()
    started = time.monotonic()
    process = _start(base, port, SAGEMAKER_MAX_PAYLOAD_IN_MB="1")
    try:
        assert _wait_for_ping(port, process) - started < 10
        _, (x, _) = split("breast_cancer")
        url = f"http://127.0.0.1:{port}/invocations"
        with httpx.Client(timeout=10) as client:
            csv = client.post(url, content=csv_rows(x[:10]), headers={"content-type": "text/csv",
                                                                       "accept": "text/csv"})
            assert csv.status_code == 200 and csv.headers["content-type"] == "text/csv"
            assert len(csv.text.splitlines()) == 10
            js = client.post(url, json={"instances": x[:2].tolist()}, headers={"accept": "application/json"})
            assert js.status_code == 200 and len(orjson.loads(js.content)["predictions"]) == 2
            bad = client.post(url, content=b"1,2,x", headers={"content-type": "text/csv"})
            assert bad.status_code == 400 and "30 features" in bad.text
            assert client.post(url, content=b"1", headers={"content-type": "image/png"}).status_code == 415
            assert client.post(url, content=csv_rows(x[:1]), headers={"content-type": "text/csv",
                                                                      "accept": "image/png"}).status_code == 406
            big = csv_rows(x[:1]) * 6000
            assert client.post(url, content=big, headers={"content-type": "text/csv"}).status_code == 413
            assert client.get(f"http://127.0.0.1:{port}/ping").status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # no-op after a clean exit; else main and workers
        process.wait()


def test_serve_without_model_fails_fast(tmp_path):
    process = _start(tmp_path, free_port())
    assert process.wait(timeout=30) == 2
    assert (tmp_path / "output" / "failure").read_text().startswith("no model at")
