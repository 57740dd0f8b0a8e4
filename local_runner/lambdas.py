"""Lambda functions run in-process: the asset's real handler, with its resolved environment."""

from __future__ import annotations

import contextlib
import functools
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

from .permissions import Principal, acting_as
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
    role_arn: str | None = None  # its execution role: the handler's AWS calls are authorized as this role
    _callable: Any = None
    _modules: dict[str, Any] = field(default_factory=dict)


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


# sys.modules is one per process: two local clouds in one process (a test's and a fixture's, a notebook's
# previous one still finishing) must not swap their functions' modules in at the same time.
_SWAP_LOCK = threading.RLock()


class LocalLambda:
    """Invoke: one invocation at a time (handlers share this process's environment variables).

    Each function imports its own asset: during an invocation its modules (and only those) are in
    sys.modules, so a `training_code` bundled into the asset wins over the repository's copy.
    """

    def __init__(self, region: str, log: TextIO | None = None):
        self.region = region
        self.log = log  # the functions' stdout/stderr (their CloudWatch log), when set
        self.functions: dict[str, Function] = {}
        self.invocations: list[tuple[str, Any]] = []
        self._lock = _SWAP_LOCK

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

    @staticmethod
    def _own_names(function: Function) -> set[str]:
        """Top-level modules and packages the asset ships (they shadow any of the same name)."""
        names = set()
        for path in function.code_dir.iterdir():
            if path.suffix == ".py":
                names.add(path.stem)
            elif path.is_dir() and (path / "__init__.py").exists():
                names.add(path.name)
        return names

    def _swap_in(self, function: Function) -> dict[str, Any]:
        """Install the function's own modules in sys.modules; return what they displaced."""
        own = self._own_names(function)
        displaced = {
            name: module
            for name, module in sys.modules.items()
            if name.split(".", 1)[0] in own and not _under(module, function.code_dir)
        }
        for name in displaced:
            del sys.modules[name]
        sys.modules.update(function._modules)
        return displaced

    @staticmethod
    def _swap_out(function: Function, displaced: dict[str, Any]) -> None:
        """Keep the function's modules for its next invocation; put back what they displaced."""
        for name, module in list(sys.modules.items()):
            if _under(module, function.code_dir):
                function._modules[name] = module
                del sys.modules[name]
        sys.modules.update(displaced)

    def _load(self, function: Function):
        if function._callable is None:
            module_name, _, attr = function.handler.rpartition(".")
            function._callable = getattr(importlib.import_module(module_name), attr)
        return function._callable

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
            displaced = self._swap_in(function)
            streams = contextlib.ExitStack()
            if self.log is not None:
                streams.enter_context(contextlib.redirect_stdout(self.log))
                streams.enter_context(contextlib.redirect_stderr(self.log))
            try:
                handler = self._load(function)
                role = Principal(function.role_arn, session=function.name) if function.role_arn else None
                with acting_as(role):
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
                self._swap_out(function, displaced)
                sys.path.remove(str(function.code_dir))
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value


def _under(module: Any, directory: Path) -> bool:
    path = getattr(module, "__file__", None)
    return bool(path) and _resolved(path).is_relative_to(_resolved(str(directory)))


@functools.lru_cache(maxsize=16384)
def _resolved(path: str) -> Path:
    # Every swap walks all of sys.modules (thousands): resolving each file anew cost ~10% of a local run's CPU.
    # A module's file does not move while it is loaded.
    return Path(path).resolve()


def _body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))
