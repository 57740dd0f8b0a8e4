"""SageMaker instance types, checked against botocore's service model: the API's own list is the spec."""

from __future__ import annotations

import difflib
from functools import cache

import botocore.model
import botocore.session


@cache
def _service_model() -> botocore.model.ServiceModel:
    """Parsed once per process: each new session would parse the whole SageMaker model again."""
    return botocore.session.get_session().get_service_model("sagemaker")


@cache
def _enum(shape_name: str) -> frozenset[str]:
    return frozenset(_service_model().shape_for(shape_name).enum)


def nearest(value: str, allowed: list[str] | frozenset[str], n: int = 4) -> list[str]:
    """The names closest to a mistyped `value`, closest first (`m5.large` -> `ml.m5.large` first)."""
    names = sorted(allowed)
    close = difflib.get_close_matches(value, names, n=n, cutoff=0.0)
    prefixed = f"ml.{value}"
    if prefixed in names:  # the prefix left out: the likeliest meaning
        close = [prefixed, *[c for c in close if c != prefixed]][:n]
    return close


def _check(value: str, shape_name: str, kind: str) -> str:
    allowed = _enum(shape_name)
    if value not in allowed:
        close = nearest(value, allowed)
        raise ValueError(
            f"not a SageMaker {kind} instance type: did you mean {close[0]!r}? (nearest: {', '.join(close)}; "
            f"botocore's {shape_name} lists all)"
        )
    return value


def check_training(value: str) -> str:
    return _check(value, "TrainingInstanceType", "training")


def check_processing(value: str) -> str:
    return _check(value, "ProcessingInstanceType", "processing")


def check_endpoint(value: str) -> str:
    return _check(value, "ProductionVariantInstanceType", "endpoint")


def check_transform(value: str) -> str:
    return _check(value, "TransformInstanceType", "batch transform")


def check_notebook(value: str) -> str:
    return _check(value, "InstanceType", "notebook")
