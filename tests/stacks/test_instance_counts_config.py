"""Per-stage instance counts in the typed configuration: within botocore's limits, and refused at validation
for a default algorithm that cannot train on more than one instance."""

from __future__ import annotations

import botocore.session
import pytest
from pydantic import ValidationError

from stacks.config import AppConfig, load_config, run_defaults
from stacks.config.sections import ProcessingConfig, TrainingConfig


def _limits(shape: str) -> dict:
    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.shape_for(shape).members["InstanceCount"].metadata


def _bounds(section, field: str) -> tuple[int, int]:
    metadata = section.model_fields[field].metadata
    low = next(m.ge for m in metadata if hasattr(m, "ge"))
    high = next(m.le for m in metadata if hasattr(m, "le"))
    return low, high


def test_the_configured_bounds_sit_within_sagemakers_model() -> None:
    low, high = _bounds(ProcessingConfig, "instance_count")
    limits = _limits("ProcessingClusterConfig")
    assert limits["min"] <= low and high <= limits["max"]
    low, high = _bounds(TrainingConfig, "instance_count")
    assert _limits("ResourceConfig")["min"] <= low and high <= _limits("HyperParameterTuningResourceConfig").get(
        "max", high
    )


def _dev(**changes) -> AppConfig:
    values = load_config("dev").model_dump()
    for section, fields in changes.items():
        values[section].update(fields)
    return AppConfig(**values)


def test_the_processing_instance_count_reaches_the_run_defaults() -> None:
    config = _dev(processing={"instance_count": 2})
    assert run_defaults(config)["processing"]["instance_count"] == 2


def test_a_default_algorithm_that_cannot_distribute_with_two_training_instances_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        _dev(training={"instance_count": 2}, pipeline={"algorithm": "ridge", "hyperparameters": {}})
    message = str(refused.value)
    assert "training.instance_count" in message and "'ridge' trains on one instance only" in message
    assert "xgboost" in message
    _dev(training={"instance_count": 2})  # xgboost, the default, distributes
