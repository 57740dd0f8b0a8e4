"""``python -m training_code serve`` as SageMaker runs it: a real Granian server in a subprocess."""

from __future__ import annotations

import contextlib
import os
import signal
import time

import httpx
import orjson
import pytest
from conftest import csv_rows, free_port, split, start_server, wait_for_ping

pytestmark = pytest.mark.slow


def test_serve_end_to_end_and_graceful_sigterm(classifier_dir):
    base = classifier_dir.parent
    port = free_port()
    started = time.monotonic()
    process = start_server(base, port, SAGEMAKER_MAX_PAYLOAD_IN_MB="1")
    try:
        assert wait_for_ping(port, process) - started < 10
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
    process = start_server(tmp_path, free_port())
    assert process.wait(timeout=30) == 2
    assert (tmp_path / "output" / "failure").read_text().startswith("no model at")
