"""SageMaker instance types, checked against botocore's service model: the API's own list is the spec."""

from __future__ import annotations

from functools import cache

import botocore.session


@cache
def _enum(shape_name: str) -> frozenset[str]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    return frozenset(model.shape_for(shape_name).enum)


def _check(value: str, shape_name: str, kind: str) -> str:
    allowed = _enum(shape_name)
    if value not in allowed:
        examples = ", ".join(sorted(t for t in allowed if t.startswith(("ml.m5.", "ml.c5.")))[:4])
        raise ValueError(f"not a SageMaker {kind} instance type (e.g. {examples}; botocore's {shape_name} lists all)")
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
