"""Live progress: a value in the Detail column, one row per polling loop, plain lines when not on a terminal."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from local_runner import progress
from local_runner.cloud import StateRun

ARN = "arn:aws:sagemaker:us-east-1:123456789012:processing-job/process-20261201214239-de39b8-with-a-long-name"


class FakeStore:
    def __init__(self, **collections: list[dict]):
        self.collections = collections

    def values(self, collection: str) -> list[dict]:
        return self.collections.get(collection, [])


def _cloud(**collections: list[dict]) -> SimpleNamespace:
    return SimpleNamespace(sagemaker=SimpleNamespace(store=FakeStore(**collections)))


def _render(table) -> str:
    console = Console(file=io.StringIO(), width=200)
    console.print(table)
    return console.file.getvalue()


def test_the_detail_column_shows_the_jobs_status_not_its_field_name() -> None:
    cloud = _cloud(processing_jobs=[{"ProcessingJobName": "process-1", "ProcessingJobStatus": "InProgress"}])
    text = _render(progress.table(cloud, [StateRun("Process", entered=0.0)], 0.0, "RUNNING"))
    assert "process-1: InProgress" in text and "ProcessingJobStatus" not in text


def test_a_polling_loop_is_one_row_that_counts_its_visits() -> None:
    runs = [StateRun("CreateEndpoint", 0.0, 0.1, "succeeded", 1)]
    for start in (0.1, 0.8, 1.5):
        runs += [
            StateRun("WaitForEndpoint", start, start + 0.6, "succeeded"),
            StateRun("DescribeEndpoint", start + 0.6, start + 0.65, "succeeded", 1),
        ]
    text = _render(progress.table(_cloud(), runs, 0.0, "RUNNING"))
    assert text.count("WaitForEndpoint") == 1 and text.count("DescribeEndpoint") == 1
    assert "3 polls" in text


def test_without_a_terminal_each_state_is_one_plain_unwrapped_line() -> None:
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=False)
    lines = progress.PlainLog(console)
    lines.update([StateRun("Process", 0.0)], started=0.0)
    lines.update([StateRun("Process", 0.0, 5.0, "failed", 1, error=f"{ARN} failed")], started=0.0)
    lines.update([StateRun("Process", 0.0, 5.0, "failed", 1, error=f"{ARN} failed")], started=0.0)
    text = out.getvalue().splitlines()
    assert len(text) == 2, text
    assert text[0].endswith("Process started")
    assert text[1].endswith(f"Process failed after 5.00 s: {ARN} failed")  # one line, however long
