"""One execution of the scoring state machine, followed like a run; its fixes name the scoring options."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .results import RunProgress
from .run import Run, elapsed
from .scoring_result import ScoringResult, output_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from .client import PipelineClient


class ScoringRun(Run):
    """One execution of the scoring state machine; `wait()` returns a ScoringResult."""

    kind = "scoring"

    def __init__(
        self,
        *,
        pipeline: PipelineClient,
        execution_arn: str,
        execution_input: dict[str, Any],
        input_columns: int | None = None,
    ):
        super().__init__(pipeline=pipeline, execution_arn=execution_arn, execution_input=execution_input)
        self.input_columns = input_columns

    def wait(
        self,
        *,
        progress: Callable[[RunProgress], None] | None = None,
        timeout_seconds: float = 4 * 3600,
        check: bool = True,
    ) -> ScoringResult:
        """Poll until the execution ends. With `check`, a scoring run that did not succeed raises RunFailed."""
        result = super().wait(progress=progress, timeout_seconds=timeout_seconds, check=check)
        assert isinstance(result, ScoringResult)
        return result

    def result(self) -> ScoringResult:
        """How the scoring run stands now, without waiting."""
        result = super().result()
        assert isinstance(result, ScoringResult)
        return result

    def _result(self, described: dict[str, Any]) -> ScoringResult:  # type: ignore[override]
        output = output_of(described)
        return ScoringResult(
            execution_arn=described["executionArn"],
            status=described["status"],
            seconds=elapsed(described),
            output=output,
            error=described.get("error"),
            cause=described.get("cause"),
            join_input=bool(self.input.get("join_input", True)),
            input_columns=self.input_columns,
            pipeline=self.pipeline,
        )

    def _fix(self, result: Any) -> str:
        if result.error == "NoApprovedModel":
            return (
                "register a model first: a run that ends REGISTERED or DEPLOYED (in prod, approve its package in "
                "the model registry), or pass model_package_arn= a version to score with"
            )
        if result.error == "ModelPackageNotApproved":
            return (
                "approve that version in the model registry, or leave model_package_arn out to score with the "
                "newest Approved one"
            )
        if result.error == "InvalidExecutionInput":
            return "correct the option the cause names and score again"
        if result.error == "TransformFailed" and "the model expects" in (result.cause or ""):
            return (
                "send the features the model was trained on, in the same columns; a label or id first: pass "
                f"skip_first_column=True ({self.pipeline.failure_hint(self.execution_arn)})"
            )
        return super()._fix(result)
