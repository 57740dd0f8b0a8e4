"""Requests and responses checked against botocore's service models.

A request that would fail botocore's parameter validation on AWS fails here with
the ValidationException the service would send, and every response the local
services build is checked against the operation's output shape, so a shape bug
in this package fails loudly instead of surfacing as a strange state machine.
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any

import botocore.session
from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator


class ServiceError(Exception):
    """An error a local service returns, as AWS would (HTTP status, code, message)."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class ResponseShapeError(AssertionError):
    """A local implementation built a response that does not match botocore's model."""


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def service_model(service: str):
    return _session().get_service_model(service)


def operation_model(service: str, operation: str) -> OperationModel:
    model = service_model(service)
    if operation not in model.operation_names:
        raise ServiceError("UnknownOperationException", f"{service} has no operation {operation}")
    return model.operation_model(operation)


def validate_request(service: str, operation: str, params: dict[str, Any]) -> None:
    shape = operation_model(service, operation).input_shape
    if shape is None:
        return
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        raise ServiceError("ValidationException", report.generate_report())
    errors: list[str] = []
    _check_constraints(params, shape, "", errors)
    if errors:
        count = len(errors)
        raise ServiceError(
            "ValidationException",
            f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(errors),
        )


_LENGTH = "Member must have length less than or equal to"
_PATTERN = "Member must satisfy regular expression pattern:"
_VALUE = "Member must have value less than or equal to"


@functools.cache
def _pattern(text: str) -> re.Pattern | None:
    try:
        return re.compile(text, re.DOTALL)
    except re.error:
        return None


def _check_constraints(value: Any, shape: Shape, path: str, errors: list[str]) -> None:
    """The service-side constraints botocore does not check: max length/size/value and patterns."""
    kind = shape.type_name
    meta = shape.metadata
    where = path or shape.name
    if kind == "structure" and isinstance(value, dict):
        for key, member in value.items():
            if key in shape.members:
                _check_constraints(member, shape.members[key], f"{path}.{key}" if path else key, errors)
    elif kind == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Value at '{where}' failed to satisfy constraint: {_LENGTH} {meta['max']}")
        for index, item in enumerate(value):
            _check_constraints(item, shape.member, f"{where}.{index + 1}", errors)
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            _check_constraints(key, shape.key, f"{where}.key", errors)
            _check_constraints(item, shape.value, f"{where}.{key}", errors)
    elif kind == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Value '{value}' at '{where}' failed to satisfy constraint: {_LENGTH} {meta['max']}")
        pattern = _pattern(meta["pattern"]) if "pattern" in meta else None
        if pattern is not None and not pattern.fullmatch(value):
            errors.append(f"Value '{value}' at '{where}' failed to satisfy constraint: {_PATTERN} {meta['pattern']}")
    elif (
        kind in ("integer", "long", "float", "double")
        and isinstance(value, (int, float))
        and value > meta.get("max", value)
    ):
        errors.append(f"Value '{value}' at '{where}' failed to satisfy constraint: {_VALUE} {meta['max']}")


def shape_response(service: str, operation: str, response: dict[str, Any]) -> dict[str, Any]:
    """Convert timestamps to datetimes, drop None values and validate against the output shape."""
    shape = operation_model(service, operation).output_shape
    if shape is None:
        return {}
    shaped = _conform(response, shape)
    report = ParamValidator().validate(shaped, shape)
    if report.has_errors():
        raise ResponseShapeError(f"{service}.{operation} response: {report.generate_report()}")
    return shaped


def _conform(value: Any, shape: Shape) -> Any:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        out = {}
        for key, member in value.items():
            if member is None:
                continue
            member_shape = shape.members.get(key)
            out[key] = _conform(member, member_shape) if member_shape is not None else member
        return out
    if kind == "list" and isinstance(value, list):
        return [_conform(v, shape.member) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _conform(v, shape.value) for k, v in value.items()}
    if kind == "timestamp":
        return to_datetime(value)
    return value


def to_datetime(value: Any) -> Any:
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
    if isinstance(value, str):
        return datetime.datetime.fromisoformat(value)
    return value


def to_json_safe(value: Any) -> Any:
    """Timestamps as ISO strings, as Step Functions shows them in state output."""
    if isinstance(value, dict):
        return {k: to_json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_safe(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "read"):  # a streaming body (s3:getObject): Step Functions gives it as a string
        return value.read().decode("utf-8", "replace")
    return value
