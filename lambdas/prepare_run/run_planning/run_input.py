"""The execution input: its JSON schema, and the checks a schema cannot express (catalog, allowed lists)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.validation import SchemaValidationError, validate

from training_code import catalog, hyperparameters
from training_code.errors import UserError
from training_code.metrics import METRIC_GOALS


class InvalidExecutionInput(Exception):
    """The Step Functions error name of a rejected input (Lambda reports the exception's class name)."""


# Where a dataset is: an S3 URI with a valid bucket name (the run and the scoring input alike).
S3_LOCATION = {"type": "string", "pattern": "^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$"}
_SCALAR = {"type": ["string", "number", "integer", "boolean"]}
_RANGE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "min": {"type": "number"},
        "max": {"type": "number"},
        "scaling": {"enum": ["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"]},
        "values": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 30},
    },
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["data"],
    "additionalProperties": False,
    "properties": {
        "data": S3_LOCATION,
        "algorithm": {"enum": list(catalog.ALGORITHMS)},
        "hyperparameters": {"type": "object", "additionalProperties": _SCALAR, "maxProperties": 100},
        "tuning": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "strategy": {"enum": ["Bayesian", "Random", "Hyperband", "Grid"]},
                "max_jobs": {"type": "integer", "minimum": 1, "maximum": 500},
                "max_parallel_jobs": {"type": "integer", "minimum": 1, "maximum": 100},
                "objective_metric": {"type": "string", "pattern": "^validation:[a-z0-9_]+$"},
                "ranges": {"type": "object", "additionalProperties": _RANGE},
            },
        },
        "objective": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"metric": {"enum": sorted(METRIC_GOALS)}, "threshold": {"type": "number"}},
        },
        "instance_types": {
            "type": "object",
            "additionalProperties": False,
            "properties": {kind: {"type": "string"} for kind in ("processing", "training", "endpoint")},
        },
        "processing": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "validation_fraction": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.5},
                "test_fraction": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.5},
                "impute": {"enum": ["none", "mean", "median"]},
            },
        },
        # ProcessingClusterConfig.InstanceCount is 1..100 in botocore's model; training's quota is per account
        "instance_counts": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                kind: {"type": "integer", "minimum": 1, "maximum": 100} for kind in ("processing", "training")
            },
        },
        "deploy": {"type": "boolean"},
    },
}


def check_schema(raw: Any, schema: dict[str, Any] = SCHEMA, fix: Callable[[str], str] | None = None) -> dict[str, Any]:
    """`raw` against `schema`, or InvalidExecutionInput naming the field and, from `fix(field)`, the fix."""
    if not isinstance(raw, dict):
        raise InvalidExecutionInput(f"execution input must be a JSON object, got {type(raw).__name__}")
    try:
        validate(event=raw, schema=schema)
    except SchemaValidationError as error:
        field = ".".join(str(p) for p in (error.path or [])[1:]) or "(input)"
        hint = (fix or _fix)(field)
        raise InvalidExecutionInput(f"{field}: {plain_message(error.validation_message)}; {hint}") from None
    return raw


def typed_hyperparameters(algorithm: str, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate with the container's own parser, so a bad value fails here, not an hour into training."""
    as_strings = {name: _as_string(value) for name, value in values.items()}
    try:
        _, typed = hyperparameters.parse({**as_strings, "algorithm": algorithm})
    except UserError as error:
        raise InvalidExecutionInput(f"hyperparameters: {error}") from None
    return typed, as_strings


def check_allowed(kind: str, value: str, allowed: list[str], *, field: str | None = None) -> str:
    if value not in allowed:
        raise InvalidExecutionInput(
            f"{field or 'instance_types.' + kind}: {value!r} is not allowed in this environment; "
            f"use one of {', '.join(allowed)}"
        )
    return value


def check_data_location(uri: str, data_bucket: str) -> str:
    bucket = uri.removeprefix("s3://").split("/", 1)[0]
    if bucket != data_bucket:
        raise InvalidExecutionInput(
            f"data: {uri!r} is outside the pipeline's data bucket; upload the dataset to s3://{data_bucket}/... "
            "(the pipeline's role may read only that bucket)"
        )
    return uri if uri.endswith((".csv", ".parquet", "/")) else uri + "/"


def _as_string(value: Any) -> str:
    # SageMaker passes every hyperparameter as a string; JSON booleans become "true"/"false".
    return str(value).lower() if isinstance(value, bool) else str(value)


def plain_message(message: str) -> str:
    return message.removeprefix("data.").removeprefix("data ")


def _fix(field: str) -> str:
    top = field.split(".", 1)[0]
    return {
        "data": "give the dataset as s3://BUCKET/PREFIX/ or s3://BUCKET/KEY.csv",
        "algorithm": f"choose one of: {', '.join(list(catalog.ALGORITHMS))}",
        "objective": f"objective.metric is one of {', '.join(sorted(METRIC_GOALS))}, objective.threshold a number",
        "tuning": "see docs/pipeline.md for the tuning fields and their limits",
    }.get(top, "remove the field or correct it (see docs/pipeline.md for the input schema)")
