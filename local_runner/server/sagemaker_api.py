"""SageMaker (JSON 1.1, `X-Amz-Target: SageMaker.<Operation>`) and SageMaker Runtime (rest-json,
`POST /endpoints/{EndpointName}/invocations`) on the wire, answered by the project's local SageMaker through the
local cloud's router (the same path the state machines' calls take: fault injection included)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..validation import ServiceError, service_model
from . import protocols
from .incoming import RUNTIME_PATH, Incoming
from .protocols import Reply

Call = Callable[[str, str, dict[str, Any]], dict[str, Any]]  # (service, operation, params) -> response

_NOT_SERVED = ("NotImplementedException", "UnknownOperationException")


def sagemaker(incoming: Incoming, call: Call) -> Reply:
    operation_name = (incoming.target or "").partition(".")[2]
    model = service_model("sagemaker")
    if operation_name not in model.operation_names:
        return protocols.unknown_operation("json", f"SageMaker has no operation {operation_name!r}")
    operation = model.operation_model(operation_name)
    try:
        params = protocols.parse_json(operation, incoming.body)
        response = call("sagemaker", operation_name, params)
    except ServiceError as error:
        if error.code in _NOT_SERVED:
            return protocols.unknown_operation("json", f"the local cloud does not serve SageMaker {operation_name}")
        return protocols.json_error(error.code, error.message, error.status)
    response.pop("__status__", None)
    return protocols.json_reply("sagemaker", operation, response)


def is_runtime(incoming: Incoming) -> bool:
    return incoming.target is None and RUNTIME_PATH.match(incoming.path) is not None


def runtime(incoming: Incoming, call: Call) -> Reply:
    found = RUNTIME_PATH.match(incoming.path)
    if found["kind"] != "invocations" or incoming.method != "POST":
        return protocols.unknown_operation(
            "rest-json",
            f"the local cloud serves InvokeEndpoint only (POST /endpoints/NAME/invocations), not "
            f"{incoming.method} {incoming.path}",
        )
    operation = service_model("sagemaker-runtime").operation_model("InvokeEndpoint")
    params = _rest_params(operation, incoming, {"EndpointName": found["EndpointName"]})
    try:
        response = call("sagemaker-runtime", "InvokeEndpoint", params)
    except ServiceError as error:
        if error.code in _NOT_SERVED:
            return protocols.unknown_operation("rest-json", error.message)
        return protocols.rest_json_error(error.code, error.message, error.status)
    return _rest_reply(operation, response)


def _rest_params(operation, incoming: Incoming, uri: dict[str, str]) -> dict[str, Any]:
    """The input members by location: the URI's labels, headers, and the payload (the body as it came)."""
    params: dict[str, Any] = {}
    for name, member in operation.input_shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri" and name in uri:
            params[name] = uri[name]
        elif location == "header" and wire.lower() in incoming.headers:
            params[name] = incoming.headers[wire.lower()]
    payload = operation.input_shape.serialization.get("payload")
    if payload:
        params[payload] = incoming.body
    return params


def _rest_reply(operation, response: dict[str, Any]) -> Reply:
    headers: dict[str, str] = {}
    body = b""
    payload = operation.output_shape.serialization.get("payload")
    for name, member in operation.output_shape.members.items():
        value = response.get(name)
        if value is None:
            continue
        if name == payload:
            body = value.read() if hasattr(value, "read") else value
        elif member.serialization.get("location") == "header":
            headers[member.serialization.get("name", name)] = str(value)
    headers.setdefault("Content-Type", "application/octet-stream")
    return Reply(200, body if isinstance(body, bytes) else str(body).encode(), headers)
