"""The `monitoring` section: typed thresholds, and a monitoring that cannot run is refused at synthesis."""

from __future__ import annotations

import json

import pytest

from stacks.config import ConfigError, load_config, parse_config
from tests.conftest import REPO_ROOT


def _with(environment: str, monitoring: dict, **endpoint: object) -> dict:
    raw = json.loads((REPO_ROOT / "config" / f"{environment}.json").read_text())
    raw["monitoring"] = {**raw.get("monitoring", {}), **monitoring}
    raw["endpoint"] = {**raw["endpoint"], **endpoint}
    return {**raw, "environment": environment}


def test_prod_monitors_hourly_and_dev_does_not_capture() -> None:
    prod, dev = load_config("prod"), load_config("dev")
    assert prod.monitoring.enabled and prod.monitoring.period == "hour"
    assert prod.monitoring.drift.distance == 0.2 and prod.monitoring.drift.min_rows == 100
    assert not dev.monitoring.enabled  # dev serves serverless, which captures nothing


def test_monitoring_without_capture_is_refused() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(_with("dev", {"enabled": True}))
    assert "monitoring.enabled needs endpoint.data_capture_percent > 0" in str(error.value)


@pytest.mark.parametrize(
    ("monitoring", "expected"),
    [
        ({"drift": {"distance": 0}}, "monitoring.drift.distance = 0: Input should be greater than 0"),
        ({"drift": {"missing_rate": 1.5}}, "monitoring.drift.missing_rate = 1.5: Input should be less than or equal"),
        ({"period": "week"}, "monitoring.period = 'week': Input should be 'hour' or 'day'"),
        ({"ground_truth_prefix": "/labels"}, "monitoring.ground_truth_prefix = '/labels': must be a key prefix"),
        ({"retrain_cooldown_hours": 0}, "monitoring.retrain_cooldown_hours = 0: Input should be greater than"),
    ],
)
def test_a_wrong_monitoring_value_names_the_key(monitoring: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(_with("prod", monitoring))
    assert expected in str(error.value)
