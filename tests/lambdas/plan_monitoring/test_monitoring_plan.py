"""The monitoring planner against moto: the serving model's baseline, the window, skips and the cool-down."""

from __future__ import annotations

import pytest
from monitoring_planning.plan import Clients, plan_monitoring, window
from monitoring_planning.settings import MonitoringSettings
from monitoring_world import CAPTURE_HOUR, CONFIG, ENDPOINT, REGION, RUN, SCHEDULED, create_world, now


@pytest.fixture
def world(monkeypatch):
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield create_world()


def _settings(world, **config) -> MonitoringSettings:
    return MonitoringSettings(ENDPOINT, "data", "artifacts", world.pipeline_arn, {**CONFIG, **config})


def _plan(world, **config) -> dict:
    clients = Clients(world.sagemaker, world.s3, world.stepfunctions)
    event = {"input": {"scheduled_time": SCHEDULED}, "execution_name": "exec-1", "start_time": SCHEDULED}
    return plan_monitoring(event, _settings(world, **config), clients, now())


def test_the_window_is_the_last_full_period() -> None:
    start, end = window("2026-12-01T10:05:00Z", "hour")
    assert (start.isoformat(), end.isoformat()) == ("2026-12-01T09:00:00+00:00", "2026-12-01T10:00:00+00:00")
    start, end = window("2026-12-01T00:15:00Z", "day")
    assert (start.isoformat(), end.isoformat()) == ("2026-11-30T00:00:00+00:00", "2026-12-01T00:00:00+00:00")


def test_no_endpoint_is_a_cheap_skip(world) -> None:
    plan = _plan(world)
    assert plan["action"] == "skip" and plan["reason"] == f"no endpoint {ENDPOINT}: no model is serving"


def test_no_capture_in_the_window_is_a_skip(world) -> None:
    world.serve()
    world.put("artifacts", "data-capture/pipeline-endpoint/AllTraffic/2026/12/01/08/a.jsonl")  # an older hour
    plan = _plan(world)
    assert plan == {**plan, "action": "skip", "reason": f"no data captured under s3://artifacts/{CAPTURE_HOUR}"}


def test_an_endpoint_without_capture_is_a_skip(world) -> None:
    world.serve(capture=False)
    assert _plan(world)["reason"] == "endpoint config config-1 captures no data"


def test_a_model_from_outside_the_pipeline_is_a_skip(world) -> None:
    world.serve(artifact="s3://elsewhere/model.tar.gz")
    world.put("artifacts", f"{CAPTURE_HOUR}a.jsonl")
    assert "is not a pipeline run's: no baseline" in _plan(world)["reason"]


def test_the_serving_models_baseline_and_the_hours_captures_are_monitored(world) -> None:
    world.serve()
    world.put("artifacts", f"{CAPTURE_HOUR}00-00-000-a.jsonl")
    world.put("data", "ground-truth/2026/12/01/09/labels.jsonl")
    world.put("data", "datasets/2026-11-30/a.csv")
    world.put("data", "datasets/2026-12-01/a.csv")
    plan = _plan(world)
    assert plan["action"] == "monitor" and plan["model"] == "model-1"
    uris = {i["InputName"]: i["S3Input"]["S3Uri"] for i in plan["inputs"]}
    assert uris == {
        "capture": f"s3://artifacts/{CAPTURE_HOUR}",
        "baseline": f"s3://artifacts/{RUN}processing/baseline/",
        "evaluation": f"s3://artifacts/{RUN}evaluation/",
        "ground_truth": "s3://data/ground-truth/2026/12/01/09/",
    }
    assert plan["arguments"][:2] == ["--max-distance", "0.2"] and plan["arguments"][-2:] == [
        "--endpoint-name",
        ENDPOINT,
    ]
    assert plan["s3"]["output"].startswith("s3://artifacts/monitoring/2026/12/01/09/monitor-2026120109-")
    assert plan["retrain"] == {
        "allowed": True,
        "reason": "violations found",
        "name": plan["retrain"]["name"],
        "input": {"data": "s3://data/datasets/2026-12-01/"},
    }
    assert len(plan["jobs"]["monitor"]) <= 63 and plan["retrain"]["name"].startswith("drift-2026120109-")


def test_a_recent_retraining_holds_the_next_one_back(world) -> None:
    world.serve()
    world.put("artifacts", f"{CAPTURE_HOUR}a.jsonl")
    world.retrained("drift-2026120108-abcdef12")
    world.retrained("a-person-started-this")
    retrain = _plan(world)["retrain"]
    assert retrain["allowed"] is False
    assert retrain["reason"].startswith("retraining drift-2026120108-abcdef12 started at ")
    assert retrain["reason"].endswith("within the 24-hour cool-down")


def test_retraining_off_is_never_allowed(world) -> None:
    world.serve()
    world.put("artifacts", f"{CAPTURE_HOUR}a.jsonl")
    assert _plan(world, retrain_on_drift=False)["retrain"] == {
        "allowed": False,
        "reason": "monitoring.retrain_on_drift is off",
    }
