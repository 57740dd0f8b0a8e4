"""``serve``: the RSGI application (/ping, /invocations, /execution-parameters) on the Granian server.

Granian (Rust HTTP core, one process per worker) runs ``create_app`` in each worker; the model loads
before the worker accepts connections, so /ping answers 200 as soon as it is reachable.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys

import orjson

from . import codecs
from .paths import model_dir, num_cpus

log = logging.getLogger("training_code.serve")
DEFAULT_MAX_PAYLOAD_MB = 6
#: Requests with more rows than this run in a thread bounded by SAGEMAKER_MODEL_SERVER_TIMEOUT.
THREAD_ROWS = 2000
#: Bodies up to this multiple of the limit are read and dropped before refusing, so the connection stays usable.
DRAIN_FACTOR = 4
#: The only method each route answers: the ones SageMaker sends.
ROUTES = {"/invocations": "POST", "/ping": "GET", "/execution-parameters": "GET"}
#: Connection deadlines (seconds) and limits; see docs/training_code.md, "Serving".
DEFAULTS = {"header_timeout": 10, "body_timeout": 20, "grace_period": 8, "max_connections": 4096}


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

    config = {
        "workers": int(number("SAGEMAKER_MODEL_SERVER_WORKERS", num_cpus())),
        "timeout": number("SAGEMAKER_MODEL_SERVER_TIMEOUT", 60),
        "port": int(number("SAGEMAKER_BIND_TO_PORT", 8080)),
        "host": os.environ.get("SAGEMAKER_BIND_HOST") or "0.0.0.0",
        "max_payload": int(number("SAGEMAKER_MAX_PAYLOAD_IN_MB", DEFAULT_MAX_PAYLOAD_MB) * 1024 * 1024),
        "header_timeout": number("MODEL_SERVER_HEADER_TIMEOUT", DEFAULTS["header_timeout"]),
        "body_timeout": number("MODEL_SERVER_BODY_TIMEOUT", DEFAULTS["body_timeout"]),
        "grace_period": number("MODEL_SERVER_GRACE_PERIOD", DEFAULTS["grace_period"]),
        "max_connections": int(number("MODEL_SERVER_MAX_CONNECTIONS", DEFAULTS["max_connections"])),
    }
    if not os.environ.get("MODEL_SERVER_BODY_TIMEOUT"):  # the default follows a short inference timeout down
        config["body_timeout"] = min(config["body_timeout"], config["timeout"] / 2)
    if config["body_timeout"] >= config["timeout"]:
        raise SystemExit(f"MODEL_SERVER_BODY_TIMEOUT ({config['body_timeout']:g} s) must be below "
                         f"SAGEMAKER_MODEL_SERVER_TIMEOUT ({config['timeout']:g} s)")
    return config


_TEXT = [("content-type", "text/plain; charset=utf-8")]
_CLOSE = ("connection", "close")


class App:
    """RSGI application. ``predictor`` is built once per worker."""

    def __init__(self, predictor, max_payload: int, timeout: float, workers: int,
                 body_timeout: float = DEFAULTS["body_timeout"]):
        self.predictor = predictor
        self.max_payload = max_payload
        self.timeout = timeout
        self.workers = workers
        self.body_timeout = body_timeout
        self._headers = {codecs.CSV: [("content-type", codecs.CSV)], codecs.JSON: [("content-type", codecs.JSON)]}

    async def __rsgi__(self, scope, proto):
        path, method = scope.path, scope.method
        if path == "/invocations" and method == "POST":
            await self.invocations(scope, proto)
            return
        allowed = ROUTES.get(path)
        if allowed is None:
            await self._refuse(scope, proto, 404, f"no route {codecs.excerpt(path)}; use POST /invocations or "
                                                  "GET /ping")
        elif method != allowed:
            await self._refuse(scope, proto, 405, f"method {method[:16]} not allowed on {path}; use {allowed}",
                               [("allow", allowed)])
        else:  # GET routes: a body nobody asked for is dropped too, or the connection closes after the answer
            close = [_CLOSE] if _has_body(scope) and not await self._drain(scope, proto) else []
            if path == "/ping":
                proto.response_empty(200, close)
                return
            body = orjson.dumps({"MaxConcurrentTransforms": self.workers, "BatchStrategy": "MULTI_RECORD",
                                 "MaxPayloadInMB": self.max_payload // (1024 * 1024)})
            proto.response_bytes(200, self._headers[codecs.JSON] + close, body)

    async def _refuse(self, scope, proto, status: int, message: str, extra: list | None = None) -> None:
        """Answer an error before the body was read: read and drop it first, or close, so keep-alive survives."""
        drained = not _has_body(scope) or await self._drain(scope, proto)
        proto.response_str(status, _TEXT + (extra or []) + ([] if drained else [_CLOSE]), message + "\n")

    async def _drain(self, scope, proto) -> bool:
        """Read and drop a body of up to DRAIN_FACTOR x the payload limit within the body deadline."""
        length = scope.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > DRAIN_FACTOR * self.max_payload):
            return False
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout):
                async for chunk in proto:
                    size += len(chunk)
                    if size > DRAIN_FACTOR * self.max_payload:
                        return False
        except TimeoutError:
            return False
        return True

    async def _body(self, scope, proto) -> bytes:
        """The request body, or ClientError (413 over the limit, 408 past the body deadline)."""
        length = scope.headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise codecs.ClientError(400, "invalid Content-Length header", close=True)
            if int(length) > self.max_payload:
                drained = await self._drain(scope, proto)
                raise codecs.ClientError(413, self._too_big(), close=not drained)
        try:
            async with asyncio.timeout(self.body_timeout):
                if length is not None:
                    return await proto()
                chunks, size = [], 0
                async for chunk in proto:
                    size += len(chunk)
                    if size > self.max_payload:
                        raise codecs.ClientError(413, self._too_big(), close=True)
                    chunks.append(chunk)
                return b"".join(chunks)
        except TimeoutError:
            raise codecs.ClientError(408, f"request body not received within MODEL_SERVER_BODY_TIMEOUT="
                                          f"{self.body_timeout:g} s; send the whole body at once", close=True) \
                from None

    def _too_big(self) -> str:
        return (f"payload over the {self.max_payload // (1024 * 1024)} MB limit; split the rows into several "
                "requests (or raise SAGEMAKER_MAX_PAYLOAD_IN_MB)")

    async def invocations(self, scope, proto):
        headers = scope.headers
        content_type = codecs.media_type(headers.get("content-type"))
        try:
            if content_type not in codecs.SUPPORTED:
                raise codecs.unsupported_content_type(content_type)
            accept = codecs.negotiate(headers.get("accept"), default=content_type)
        except codecs.ClientError as exc:
            await self._refuse(scope, proto, exc.status, exc.message)
            return
        try:
            body = await self._body(scope, proto)
            if self.predictor.rows_hint(body, content_type) > THREAD_ROWS:
                result = await asyncio.wait_for(
                    asyncio.to_thread(self.predictor.invoke, body, content_type, accept), self.timeout)
            else:
                result = self.predictor.invoke(body, content_type, accept)
        except codecs.ClientError as exc:
            proto.response_str(exc.status, _TEXT + ([_CLOSE] if exc.close else []), exc.message + "\n")
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


def _has_body(scope) -> bool:
    headers = scope.headers
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


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
    return App(predictor, config["max_payload"], config["timeout"], config["workers"], config["body_timeout"])


_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _hold_stop_signals() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)


def _release_stop_signals() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def _stop_at_once() -> None:
    """In a worker, at its fork. Granian gives a worker its own signal handlers only once its app has loaded;
    until then the worker held the main process's, which flag the main process's copy of the server, so a
    SIGTERM that reached a starting worker was lost, and shutdown waited out the grace period for it. A worker
    that serves no connection yet may end at once. The signals stay blocked across the fork (`before`), so
    that one sent before this ran is delivered now, not to the inherited handler."""
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    _release_stop_signals()


def _raise_fd_limit(needed: int) -> None:
    """Each connection is a file descriptor: lift the soft limit (often 1,024) towards what the workers may hold."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def run() -> int:
    """Check the model loads, then hand over to Granian (SIGTERM/SIGINT: graceful shutdown)."""
    # One worker per CPU, one math thread per worker. Also: Granian forks its workers after the parent
    # loaded the model, and an OpenMP runtime (xgboost) started before a fork deadlocks in the child.
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings

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
    _raise_fd_limit(config["workers"] * config["max_connections"] + 256)
    log.info("serving %s on %s:%s with %d worker(s); deadlines: headers/idle %gs, body %gs, shutdown grace %gs",
             model_dir(), config["host"], config["port"], config["workers"], config["header_timeout"],
             config["body_timeout"], config["grace_period"])
    # Granian forks its workers from this process
    os.register_at_fork(before=_hold_stop_signals, after_in_parent=_release_stop_signals, after_in_child=_stop_at_once)
    server = Granian(
        "training_code.serving:create_app",
        factory=True,
        address=config["host"],
        port=config["port"],
        interface=Interfaces.RSGI,
        # HTTP/1.1 only (what SageMaker sends): in "auto" mode Granian first sniffs for an HTTP/2 preface, and a
        # connection that never sends a byte escapes the header deadline and holds a connection slot forever.
        http=HTTPModes.http1,
        # hyper's header deadline runs from accept and between keep-alive requests: it also bounds idle connections
        http1_settings=HTTP1Settings(header_read_timeout=max(1, int(config["header_timeout"] * 1000))),
        workers=config["workers"],
        backlog=2048,
        backpressure=config["max_connections"],  # connections per worker; slow ones end at the body deadline
        log_access=False,
        workers_kill_timeout=max(1, int(config["grace_period"])),  # all workers together, then SIGKILL
        respawn_failed_workers=True,
    )
    server.serve()
    return 0

