"""Pure parts: event parsing, the execution history, names, sentences and subjects."""

from __future__ import annotations

import json

import pytest
from failure_handler_testkit import STATE_MACHINE_ARN, backstop_event, catch_event, execution_arn
from failure_handling.events import parse_event
from failure_handling.history import failed_state_from_events
from failure_handling.notify import ascii_subject
from failure_handling.summary import cause_sentence, error_name


def test_catch_event_with_describe_response_cause() -> None:
    cause = json.dumps({"TrainingJobName": "train-run-1", "FailureReason": "AlgorithmError: bad input"})
    event = parse_event(catch_event("Train", "training", "train-run-1", cause=cause))

    assert event.source == "catch"
    assert (event.step, event.job.type, event.job.name) == ("Train", "training", "train-run-1")
    assert event.cause_document == {"TrainingJobName": "train-run-1", "FailureReason": "AlgorithmError: bad input"}
    assert event.record_id == "run-1"
    assert event.problems == ()


def test_catch_event_without_job_infers_it_from_the_cause() -> None:
    cause = json.dumps({"HyperParameterTuningJobName": "tune-1", "BestTrainingJob": {"TrainingJobName": "t-1"}})
    raw = catch_event("Tune", "none", None, cause=cause)
    del raw["job"]

    event = parse_event(raw)

    assert (event.job.type, event.job.name) == ("tuning", "tune-1")
    assert "'job' is not an object with type and name" in event.problems


def test_catch_event_with_plain_text_cause() -> None:
    event = parse_event(catch_event("Deploy", "endpoint", "ep-1", cause="Rate exceeded", action="Create"))

    assert event.cause == "Rate exceeded"
    assert event.cause_document is None
    assert event.job.action == "create"


def test_backstop_event_parses_input_and_status() -> None:
    event = parse_event(backstop_event("run-3", status="TIMED_OUT", error=None, cause=None))

    assert event.source == "backstop"
    assert event.execution_arn == execution_arn("run-3")
    assert event.state_machine_arn == STATE_MACHINE_ARN
    assert event.execution_status == "TIMED_OUT"
    assert event.error == "ExecutionTimedOut"
    assert event.input == {"run_id": "run-3"}
    assert event.step is None


def test_execution_name_falls_back_to_the_arn() -> None:
    raw = catch_event("Train", "training", "t")
    del raw["execution_name"]
    assert parse_event(raw).execution_name == "run-1"


@pytest.mark.parametrize("raw", [None, 42, "text", [], {}, {"source": "elsewhere", "error": 3}])
def test_unexpected_shapes_parse_without_raising_and_identify_stably(raw: object) -> None:
    event = parse_event(raw)

    assert event.source == "unrecognised"
    assert event.problems
    assert event.record_id.startswith("unidentified-")
    assert parse_event(raw).record_id == event.record_id  # a retry finds the same record


def test_history_names_the_last_state_entered_and_its_sagemaker_job() -> None:
    events = [
        {"id": 1, "type": "ExecutionStarted"},
        {"id": 2, "type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Preprocess"}},
        {"id": 3, "type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Train"}},
        {
            "id": 4,
            "type": "TaskScheduled",
            "taskScheduledEventDetails": {
                "resourceType": "sagemaker",
                "resource": "createTrainingJob.sync",
                "parameters": json.dumps({"TrainingJobName": "train-run-1", "RoleArn": "arn"}),
            },
        },
        {"id": 5, "type": "TaskFailed", "taskFailedEventDetails": {"error": "States.TaskFailed"}},
        {"id": 6, "type": "ExecutionFailed"},
    ]

    # Given oldest first on purpose: the order of the answer must not matter.
    located = failed_state_from_events(events)

    assert located.step == "Train"
    assert located.job is not None
    assert (located.job.type, located.job.name, located.job.action) == ("training", "train-run-1", "create")


def test_history_skips_the_fail_state_and_ignores_non_sagemaker_tasks() -> None:
    events = [
        {"id": 7, "type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Notify"}},
        {"id": 8, "type": "TaskScheduled", "taskScheduledEventDetails": {"resourceType": "lambda", "parameters": "{}"}},
        {"id": 9, "type": "FailStateEntered", "stateEnteredEventDetails": {"name": "PipelineFailed"}},
    ]

    located = failed_state_from_events(events)

    assert (located.step, located.job) == ("Notify", None)


def test_history_without_state_entries_says_so() -> None:
    located = failed_state_from_events([{"id": 1, "type": "ExecutionStarted"}])
    assert located.step is None
    assert located.problem == "no state entry in the last history events"


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("Train", "TrainFailed"),
        ("evaluate model", "EvaluateModelFailed"),
        (None, "PipelineFailed"),
        ("--", "PipelineFailed"),
    ],
)
def test_error_name(step: str | None, expected: str) -> None:
    assert error_name(step) == expected


def test_cause_sentence_without_a_job() -> None:
    assert cause_sentence("Gate", "none", None, "AUC 0.61 below 0.75.") == "Step Gate failed: AUC 0.61 below 0.75."


def test_subject_is_ascii_single_line_and_at_most_100_characters() -> None:
    subject = ascii_subject("[prod] modèle: " + "Étape\nlongue " * 20)

    assert len(subject) == 100
    assert subject.isascii()
    assert "\n" not in subject
    assert subject.endswith("...")


def test_the_parser_reads_every_field_of_the_catch_input() -> None:
    """CatchInput is the event the failure path builds (checked at synthesis); each of its fields arrives."""
    from dataclasses import asdict, fields

    from failure_handling.catch_input import CATCH_SOURCE, CatchInput, CaughtJob

    sent = CatchInput(
        source=CATCH_SOURCE,
        execution_arn=execution_arn("run-7"),
        execution_name="run-7",
        state_machine_arn=STATE_MACHINE_ARN,
        redrive_count=2,
        step="UpdateEndpoint",
        job=CaughtJob(type="endpoint", name="pipeline-endpoint", action="update"),
        error={"Error": "SageMaker.ValidationException", "Cause": "no capacity"},
        input={"run": {"id": "r-7"}},
    )
    event = parse_event(asdict(sent))
    received = {
        "source": event.source,
        "execution_arn": event.execution_arn,
        "execution_name": event.execution_name,
        "state_machine_arn": event.state_machine_arn,
        "redrive_count": event.redrive_count,
        "step": event.step,
        "job": {"type": event.job.type, "name": event.job.name, "action": event.job.action},
        "error": {"Error": event.error, "Cause": event.cause},
        "input": event.input,
    }
    assert set(received) == {f.name for f in fields(CatchInput)}
    assert received == asdict(sent) and event.problems == ()
