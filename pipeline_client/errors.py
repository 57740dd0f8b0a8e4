"""Errors a data scientist can act on: every message names the problem and the fix."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .results import RunResult
    from .scoring_result import ScoringResult


class PipelineError(Exception):
    """A problem with the input, the backend or a run; the message says how to fix it."""


class OptionError(PipelineError, ValueError):
    """A run option that the pipeline would reject; raised before anything is uploaded or started."""


class RunFailed(PipelineError):
    """A run (or a scoring run) that ended FAILED, TIMED_OUT or ABORTED; `result` holds its error and cause."""

    def __init__(self, message: str, *, result: RunResult | ScoringResult):
        super().__init__(message)
        self.result = result
