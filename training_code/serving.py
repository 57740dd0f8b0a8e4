"""``serve``: the RSGI application (/ping, /invocations, /execution-parameters) on the Granian server.

Granian (Rust HTTP core, one process per worker) runs ``create_app`` in each worker; the model loads
before the worker accepts connections, so /ping answers 200 as soon as it is reachable.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys

import orjson

from . import codecs
from .paths import model_dir, num_cpus

log = logging.getLogger("training_code.serve")
DEFAULT_MAX_PAYLOAD_MB = 6
#: Requests with more rows than this run in a thread bounded by SAGEMAKER_MODEL_SERVER_TIMEOUT.
THREAD_ROWS = 2000
#: Oversized bodies up to this multiple of the limit are read and dropped before answering 413.
DRAIN_FACTOR = 4


def settings() -> dict:
    def number(name, default):
        raw = os.environ.get(name, "")
        try:
            value = float(raw) if raw else default
        except ValueError:
            raise SystemExit(f"{name} must be a number, got {raw!r}") from None
        if value <= 0:
            raise SystemExit(f"{name} must be > 0, got {raw!r}")
        return value

    return {
        "workers": int(number("SAGEMAKER_MODEL_SERVER_WORKERS", num_cpus())),
        "timeout": number("SAGEMAKER_MODEL_SERVER_TIMEOUT", 60),
        "port": int(number("SAGEMAKER_BIND_TO_PORT", 8080)),
        "host": os.environ.get("SAGEMAKER_BIND_HOST") or "0.0.0.0",
        "max_payload": int(number("SAGEMAKER_MAX_PAYLOAD_IN_MB", DEFAULT_MAX_PAYLOAD_MB) * 1024 * 1024),
    }


_TEXT = [("content-type", "text/plain; charset=utf-8")]


class App:
    """RSGI application. ``predictor`` is built once per worker."""

    def __init__(self, predictor, max_payload: int, timeout: float, workers: int):
        self.predictor = predictor
        self.max_payload = max_payload
        self.timeout = timeout
        self.workers = workers
        self._headers = {codecs.CSV: [("content-type", codecs.CSV)], codecs.JSON: [("content-type", codecs.JSON)]}

    async def __rsgi__(self, scope, proto):
        path = scope.path
        if path == "/invocations":
            if scope.method != "POST":
                proto.response_str(405, _TEXT, "use POST for /invocations\n")
                return
            await self.invocations(scope, proto)
        elif path == "/ping":
            proto.response_empty(200, [])
        elif path == "/execution-parameters":
            body = orjson.dumps({"MaxConcurrentTransforms": self.workers, "BatchStrategy": "MULTI_RECORD",
                                 "MaxPayloadInMB": self.max_payload // (1024 * 1024)})
            proto.response_bytes(200, self._headers[codecs.JSON], body)
            return
        else:
            proto.response_str(404, _TEXT, f"no route {path}; use POST /invocations or GET /ping\n")

    async def _body(self, scope, proto) -> bytes | None:
        length = scope.headers.get("content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_payload
            except ValueError:
                proto.response_str(400, _TEXT, "invalid Content-Length header\n")
                return None
            if too_big:
                await self._discard(proto, int(length))
                proto.response_str(413, _TEXT, self._too_big())
                return None
            return await proto()
        chunks, size = [], 0
        async for chunk in proto:
            size += len(chunk)
            if size > self.max_payload:
                proto.response_str(413, _TEXT, self._too_big())
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _discard(self, proto, length: int) -> None:
        """Read (and drop) a moderately oversized body so the client gets the 413 rather than a reset."""
        if length > DRAIN_FACTOR * self.max_payload:
            return
        async for _ in proto:
            pass

    def _too_big(self) -> str:
        return (f"payload over the {self.max_payload // (1024 * 1024)} MB limit; split the rows into several "
                "requests (or raise SAGEMAKER_MAX_PAYLOAD_IN_MB)\n")

    async def invocations(self, scope, proto):
        headers = scope.headers
        content_type = codecs.media_type(headers.get("content-type"))
        try:
            if content_type not in codecs.SUPPORTED:
                raise codecs.ClientError(415, f"unsupported Content-Type {content_type or '(none)'!r}; use "
                                              "text/csv or application/json")
            accept = codecs.negotiate(headers.get("accept"), default=content_type)
            body = await self._body(scope, proto)
            if body is None:
                return
            if self.predictor.rows_hint(body, content_type) > THREAD_ROWS:
                result = await asyncio.wait_for(
                    asyncio.to_thread(self.predictor.invoke, body, content_type, accept), self.timeout)
            else:
                result = self.predictor.invoke(body, content_type, accept)
        except codecs.ClientError as exc:
            proto.response_str(exc.status, _TEXT, exc.message + "\n")
            return
        except TimeoutError:
            proto.response_str(504, _TEXT, f"inference exceeded SAGEMAKER_MODEL_SERVER_TIMEOUT={self.timeout:g} s; "
                                           "send fewer rows per request\n")
            return
        except Exception:  # a bug, not the client's input: log it, answer 500
            log.exception("inference failed")
            proto.response_str(500, _TEXT, "internal error during inference; see the endpoint logs\n")
            return
        proto.response_bytes(200, self._headers[accept], result)


def create_app() -> App:
    """Granian factory target: runs in each worker process."""
    import numpy as np
    import sklearn

    from .predictor import Predictor

    # Inputs are validated by the codecs (shape, finiteness), so skip sklearn's per-call re-validation.
    sklearn.set_config(assume_finite=True, skip_parameter_validation=True)
    config = settings()
    predictor = Predictor(model_dir())
    # Move the model and the imported libraries out of the garbage collector's sight: a full collection over
    # them costs tens of milliseconds, which would otherwise land on some request's latency.
    gc.collect()
    gc.freeze()
    np.seterr(all="ignore")  # overflow on absurd inputs yields inf/NaN scores, not log noise per request
    return App(predictor, config["max_payload"], config["timeout"], config["workers"])


def run() -> int:
    """Check the model loads, then hand over to Granian (SIGTERM/SIGINT: graceful shutdown)."""
    # One worker per CPU, one math thread per worker. Also: Granian forks its workers after the parent
    # loaded the model, and an OpenMP runtime (xgboost) started before a fork deadlocks in the child.
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    from granian import Granian
    from granian.constants import Interfaces

    from .errors import write_failure
    from .paths import base_dir
    from .predictor import Predictor

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = settings()
    try:
        Predictor(model_dir())  # fail fast, with a clear reason, before spawning workers
    except Exception as exc:
        reason = write_failure(base_dir() / "output" / "failure", exc)
        print(f"serve failed: {reason.splitlines()[0]}", file=sys.stderr, flush=True)
        return 2
    log.info("serving %s on %s:%s with %d worker(s)", model_dir(), config["host"], config["port"], config["workers"])
    server = Granian(
        "training_code.serving:create_app",
        factory=True,
        address=config["host"],
        port=config["port"],
        interface=Interfaces.RSGI,
        workers=config["workers"],
        backlog=2048,
        log_access=False,
        workers_kill_timeout=max(1, int(config["timeout"])),
        respawn_failed_workers=True,
    )
    server.serve()
    return 0

