"""AWS wire formats, server side, from botocore's service models: a JSON request body parsed into an operation's
parameters, a response dict serialized as the protocol sends it, and each protocol's error shape.

botocore's own response parser reads a JSON document against a shape (timestamps, blobs); serializing an output
shape is the few lines below, because botocore serializes input shapes only."""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import OperationModel, Shape
from botocore.parsers import create_parser

from ..validation import ServiceError, service_model

JSON_TYPES = {"1.0": "application/x-amz-json-1.0", "1.1": "application/x-amz-json-1.1"}


@dataclass
class Reply:
    """What the front sends back: status, headers and body."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def request_id() -> str:
    return str(uuid.uuid4())


def parse_json(operation: OperationModel, body: bytes) -> dict[str, Any]:
    """A JSON-protocol request body as the operation's parameters (timestamps as datetimes, blobs as bytes)."""
    text = body.decode("utf-8") if body else "{}"
    try:
        document = json.loads(text or "{}")
    except ValueError as error:
        raise ServiceError("SerializationException", f"the request body is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise ServiceError("SerializationException", "the request body must be a JSON object") from None
    if operation.input_shape is None:
        return {}
    parsed = create_parser("json").parse(
        {"body": json.dumps(document).encode(), "headers": {}, "status_code": 200}, operation.input_shape
    )
    parsed.pop("ResponseMetadata", None)
    return parsed


def to_wire(value: Any, shape: Shape | None) -> Any:
    """A response value as JSON protocols send it: timestamps as epoch seconds, blobs base64-encoded."""
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        out = {}
        for key, member in value.items():
            member_shape = shape.members.get(key)
            if member is None or member_shape is None:
                continue
            out[member_shape.serialization.get("name", key)] = to_wire(member, member_shape)
        return out
    if kind == "list" and isinstance(value, list):
        return [to_wire(v, shape.member) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: to_wire(v, shape.value) for k, v in value.items()}
    if kind == "timestamp" and isinstance(value, datetime.datetime):
        return value.timestamp()
    if kind == "blob" and isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return value


def json_reply(service: str, operation: OperationModel, response: dict[str, Any]) -> Reply:
    version = service_model(service).metadata.get("jsonVersion", "1.0")
    body = json.dumps(to_wire(response, operation.output_shape)).encode()
    return Reply(200, body, {"Content-Type": JSON_TYPES.get(version, JSON_TYPES["1.0"])})


# -- errors ------------------------------------------------------------------------------------------------------
def json_error(code: str, message: str, status: int = 400, content_type: str = JSON_TYPES["1.1"]) -> Reply:
    """JSON 1.0/1.1 (SageMaker, Step Functions, Logs, EventBridge): the code in `__type`, as AWS sends it."""
    body = json.dumps({"__type": code, "message": message}).encode()
    return Reply(status, body, {"Content-Type": content_type, "x-amzn-ErrorType": code})


def rest_json_error(code: str, message: str, status: int = 400) -> Reply:
    """rest-json (SageMaker Runtime): the code in the x-amzn-ErrorType header, the message in the body."""
    body = json.dumps({"message": message}).encode()
    return Reply(status, body, {"Content-Type": "application/json", "x-amzn-ErrorType": code})


def query_error(code: str, message: str, status: int = 400) -> Reply:
    """query (SNS, STS, CloudWatch's form requests): an XML ErrorResponse."""
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"</Error><RequestId>{request_id()}</RequestId></ErrorResponse>"
    ).encode()
    return Reply(status, body, {"Content-Type": "text/xml"})


def rest_xml_error(code: str, message: str, status: int = 400) -> Reply:
    """rest-xml (S3): an XML Error document."""
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message><RequestId>{request_id()}</RequestId></Error>"
    ).encode()
    return Reply(status, body, {"Content-Type": "application/xml"})


UNKNOWN_OPERATION = {  # each protocol's code for an operation the service does not know
    "json": "UnknownOperationException",
    "rest-json": "UnknownOperationException",
    "query": "InvalidAction",
    "rest-xml": "NotImplemented",
}


def error(protocol: str, code: str, message: str, status: int = 400) -> Reply:
    if protocol == "rest-json":
        return rest_json_error(code, message, status)
    if protocol == "query":
        return query_error(code, message, status)
    if protocol == "rest-xml":
        return rest_xml_error(code, message, status)
    return json_error(code, message, status)


def unknown_operation(protocol: str, message: str) -> Reply:
    return error(protocol, UNKNOWN_OPERATION.get(protocol, "UnknownOperationException"), message, 400)
