"""The query protocol (CloudFormation's), server side: a form's flat parameters read against the operation's
input shape, and an output shape written as the XML document AWS sends (`<OpResponse><OpResult>…`).

Served for CloudFormation's DescribeStacks, which every client calls to find the pipeline's resources; moto's
own CloudFormation is not deployed into (see local_runner/stack_outputs.py)."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from botocore.model import OperationModel, Shape

from .protocols import Reply, request_id


def parse_form(operation: OperationModel, body: bytes) -> dict[str, Any]:
    """The operation's top-level scalar parameters from a form body (the ones DescribeStacks takes)."""
    form = parse_qs(body.decode("utf-8", "replace"))
    members = operation.input_shape.members if operation.input_shape is not None else {}
    params: dict[str, Any] = {}
    for name, shape in members.items():
        if name in form and shape.type_name in ("string", "integer", "long", "boolean"):
            value = form[name][0]
            params[name] = int(value) if shape.type_name in ("integer", "long") else value
            if shape.type_name == "boolean":
                params[name] = value.lower() == "true"
    return params


def _xml(value: Any, shape: Shape) -> str:
    kind = shape.type_name
    if kind == "structure":
        parts = []
        for name, member in shape.members.items():
            if isinstance(value, dict) and value.get(name) is not None:
                tag = member.serialization.get("name", name)
                parts.append(f"<{tag}>{_xml(value[name], member)}</{tag}>")
        return "".join(parts)
    if kind == "list":
        tag = shape.member.serialization.get("name", "member")
        return "".join(f"<{tag}>{_xml(item, shape.member)}</{tag}>" for item in value)
    if kind == "map":
        return "".join(
            f"<entry><key>{escape(str(k))}</key><value>{_xml(v, shape.value)}</value></entry>" for k, v in value.items()
        )
    if kind == "timestamp":
        moment = (
            value
            if isinstance(value, datetime.datetime)
            else datetime.datetime.fromtimestamp(float(value), datetime.UTC)
        )
        return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if kind == "boolean":
        return "true" if value else "false"
    return escape(str(value))


def query_reply(operation: OperationModel, response: dict[str, Any], namespace: str) -> Reply:
    name = operation.name
    result = _xml(response, operation.output_shape) if operation.output_shape is not None else ""
    body = (
        f'<{name}Response xmlns="{namespace}"><{name}Result>{result}</{name}Result>'
        f"<ResponseMetadata><RequestId>{request_id()}</RequestId></ResponseMetadata></{name}Response>"
    )
    return Reply(200, body.encode(), {"Content-Type": "text/xml"})
