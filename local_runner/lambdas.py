"""Lambda functions run in-process: the asset's real handler, with its resolved environment."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from botocore.response import StreamingBody

from .validation import ServiceError


@dataclass
class Function:
    name: str
    arn: str
    handler: str
    code_dir: Path
    environment: dict[str, str] = field(default_factory=dict)
    timeout: int = 3
    memory: int = 128
    _callable: Any = None


class LambdaContext:
    """The attributes of the Lambda runtime's context object that handlers and Powertools read."""

    def __init__(self, function: Function):
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + function.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalLambda:
    """Invoke: one invocation at a time (handlers share this process's environment variables)."""

    def __init__(self, region: str, log: TextIO | None = None):
        self.region = region
        self.log = log  # the functions' stdout/stderr (their CloudWatch log), when set
        self.functions: dict[str, Function] = {}
        self.invocations: list[tuple[str, Any]] = []
        self._lock = threading.RLock()

    def add(self, function: Function) -> None:
        self.functions[function.name] = function
        self.functions[function.arn] = function

    def find(self, name: str) -> Function:
        base = name.split(":$LATEST")[0]
        function = self.functions.get(base) or self.functions.get(base.rsplit(":", 1)[-1])
        if function is None:
            raise ServiceError("ResourceNotFoundException", f"Function not found: {name}", 404)
        return function

    def _environment(self, function: Function) -> dict[str, str]:
        env = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "AWS_XRAY_SDK_ENABLED": "false",
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        }
        env.update({k: str(v) for k, v in function.environment.items()})
        return env

    def _load(self, function: Function):
        if function._callable is not None:
            return function._callable
        module_name, _, attr = function.handler.rpartition(".")
        code_dir = str(function.code_dir)
        before = set(sys.modules)
        sys.path.insert(0, code_dir)
        try:
            module = importlib.import_module(module_name)
            handler = getattr(module, attr)
        finally:
            sys.path.remove(code_dir)
            # Each function keeps its own modules: drop those from its asset so the next function
            # with an `index.py` or `app.py` imports its own.
            for name in set(sys.modules) - before:
                path = getattr(sys.modules[name], "__file__", None) or ""
                if path.startswith(code_dir):
                    del sys.modules[name]
        function._callable = handler
        return handler

    def invoke(self, params: dict[str, Any]) -> dict[str, Any]:
        function = self.find(params["FunctionName"])
        payload = params.get("Payload") or b"{}"
        if isinstance(payload, (bytes, bytearray)):
            payload = payload.decode()
        elif hasattr(payload, "read"):
            payload = payload.read().decode()
        event = json.loads(payload) if payload else {}
        if params.get("InvocationType") == "Event":
            threading.Thread(target=self._run, args=(function, event), daemon=True).start()
            return {"StatusCode": 202, "Payload": _body(b"")}
        body, error = self._run(function, event)
        response = {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": _body(body)}
        if error:
            response["FunctionError"] = "Unhandled"
        return response

    def _run(self, function: Function, event: Any) -> tuple[bytes, bool]:
        with self._lock:
            env = self._environment(function)
            saved = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            sys.path.insert(0, str(function.code_dir))
            streams = contextlib.ExitStack()
            if self.log is not None:
                streams.enter_context(contextlib.redirect_stdout(self.log))
                streams.enter_context(contextlib.redirect_stderr(self.log))
            try:
                handler = self._load(function)
                result = handler(event, LambdaContext(function))
                try:
                    body = json.dumps(result).encode()
                except (TypeError, ValueError) as error:
                    body = json.dumps(
                        {
                            "errorMessage": f"Unable to marshal response: {error}",
                            "errorType": "Runtime.MarshalError",
                            "requestId": "",
                            "stackTrace": [],
                        }
                    ).encode()
                    return body, True
                self.invocations.append((function.name, event))
                return body, False
            except Exception as error:
                self.invocations.append((function.name, event))
                body = json.dumps(
                    {
                        "errorMessage": str(error),
                        "errorType": type(error).__name__,
                        "requestId": str(uuid.uuid4()),
                        "stackTrace": traceback.format_tb(error.__traceback__),
                    }
                ).encode()
                return body, True
            finally:
                streams.close()
                sys.path.remove(str(function.code_dir))
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value


def _body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))
