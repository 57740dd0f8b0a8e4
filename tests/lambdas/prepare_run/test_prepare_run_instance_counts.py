"""Per-stage instance counts: the environment's, an execution's override, and the refusal of more than one
training instance for an algorithm that cannot distribute, before the execution starts any job."""

from __future__ import annotations

import pytest
from prepare_run_testkit import START
from run_planning.run_input import InvalidExecutionInput
from run_planning.run_plan import plan_run
from run_planning.settings import Settings

DATA = "s3://data-bucket/datasets/cancer.csv"


def _plan(settings: Settings, **given):
    return plan_run({"data": DATA, **given}, settings, execution_name="e1", start_time=START)


def test_the_environments_instance_counts_are_the_default(dev_settings: Settings) -> None:
    run = _plan(dev_settings)
    assert run["instances"]["processing"]["InstanceCount"] == dev_settings.defaults["processing"]["instance_count"]
    assert run["instances"]["training"]["InstanceCount"] == dev_settings.defaults["training"]["instance_count"]


def test_an_execution_overrides_the_instance_counts(dev_settings: Settings) -> None:
    run = _plan(dev_settings, instance_counts={"processing": 2, "training": 3})
    assert run["instances"]["processing"]["InstanceCount"] == 2
    assert run["instances"]["training"]["InstanceCount"] == 3


def test_a_non_distributable_algorithm_on_two_training_instances_is_refused_naming_those_that_can(
    dev_settings: Settings,
) -> None:
    with pytest.raises(InvalidExecutionInput) as refused:
        _plan(dev_settings, algorithm="ridge", instance_counts={"training": 2})
    message = str(refused.value)
    assert "'ridge' trains on one instance only" in message and "xgboost" in message
    assert message.startswith("instance_counts.training")


@pytest.mark.parametrize("counts", [{"training": 0}, {"processing": 101}, {"endpoint": 2}])
def test_instance_counts_outside_sagemakers_limits_are_refused(dev_settings: Settings, counts) -> None:
    with pytest.raises(InvalidExecutionInput, match="instance_counts"):
        _plan(dev_settings, instance_counts=counts)
