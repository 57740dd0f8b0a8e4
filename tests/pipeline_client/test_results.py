"""The quality gate's decision, read from both output shapes the state machine ends with."""

from __future__ import annotations

from pipeline_client import Decision, RunProgress, Step, print_progress

# The `Summarize` and `DescribeRejection` Pass states' parameters (stacks/components/workflow/), filled in.
DEPLOYED = {
    "status": "DEPLOYED",
    "objective": {"name": "accuracy", "value": 0.9186, "goal": "Maximize"},
    "threshold": 0.9,
    "metrics": {"accuracy": 0.9186},
    "endpoint_name": "pipeline-endpoint",
}
REJECTED = {
    "status": "REJECTED_BY_QUALITY_GATE",
    "metric": "rmse",
    "value": 4.2,
    "threshold": 3.0,
    "goal": "Minimize",
    "metrics": {"rmse": 4.2},
}


def test_a_deployed_run_passed_the_gate() -> None:
    decision = Decision.from_output(DEPLOYED)
    assert decision is not None and decision.passed
    assert (decision.metric, decision.value, decision.threshold) == ("accuracy", 0.9186, 0.9)
    assert str(decision) == "quality gate passed: accuracy 0.9186 >= 0.9 -> deployed to endpoint pipeline-endpoint"


def test_a_rejection_compares_in_the_metrics_own_direction() -> None:
    decision = Decision.from_output(REJECTED)
    assert decision is not None and not decision.passed
    assert str(decision) == "quality gate rejected the model: rmse 4.2 > 3 -> nothing registered or deployed"


def test_an_output_without_a_status_has_no_decision() -> None:
    assert Decision.from_output(None) is None
    assert Decision.from_output({"error": "x"}) is None


def test_progress_prints_a_line_per_ended_state_and_the_outcome(capsys) -> None:
    steps = (Step("Process", 1.5), Step("Train", 0.25, error="TrainFailed"))
    print_progress(RunProgress("FAILED", 2.0, steps))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("✓ Process") and lines[0].endswith("1.50 s")
    assert lines[1].startswith("✗ Train") and lines[1].endswith("TrainFailed")
    assert lines[2] == "FAILED after 2.0 s"
