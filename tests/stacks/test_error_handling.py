"""Retries by error class: every task gets the same three retries, and their durations are made once."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_stepfunctions as sfn

from stacks.components.workflow import error_handling


def test_retries_render_the_policy_and_share_their_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[float] = []
    seconds = cdk.Duration.seconds

    def counting(amount: float) -> cdk.Duration:
        made.append(amount)
        return seconds(amount)

    monkeypatch.setattr(cdk.Duration, "seconds", counting)
    stack = cdk.Stack(cdk.App(), "Retries")
    states = [sfn.CustomState(stack, f"Task{i}", state_json={"Type": "Task", "Resource": "arn"}) for i in range(3)]
    for state in states:
        error_handling.add_retries(state)
    distinct = {
        value for _, interval, _, _, longest in error_handling.RETRY_POLICY for value in (interval, longest) if value
    }
    assert len(made) <= len(distinct)  # each a Node round trip: 6 per task before, 132 per synthesis
    rendered = stack.resolve(states[-1].to_state_json())["Retry"]
    assert [
        (r["ErrorEquals"], r["IntervalSeconds"], r["MaxAttempts"], r["BackoffRate"], r.get("MaxDelaySeconds"))
        for r in rendered
    ] == [tuple(p) for p in error_handling.RETRY_POLICY]
