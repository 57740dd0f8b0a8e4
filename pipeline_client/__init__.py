"""Start pipeline runs and call the endpoint from Python, against the local runner or the deployed stacks.

pipeline = connect("local")               # or "aws"
uri = pipeline.upload_dataset("data.csv")  # label first, numbers only
result = pipeline.start_run(uri, algorithm="xgboost", tuning=False).wait(progress=print_progress)
print(result.decision, pipeline.predict([[...features...]]))
scored = pipeline.score_dataset([[...features...], ...]).wait()   # offline, a batch transform job
print(scored.predictions())
"""

from __future__ import annotations

import os
from pathlib import Path

from .base import Pipeline, Resources
from .dataset import DatasetInfo, Rows, check_dataset, read_rows
from .errors import OptionError, PipelineError, RunFailed
from .options import RunOptions
from .results import Decision, RunProgress, RunResult, Step, print_progress
from .run import Run
from .scoring import ScoringOptions, ScoringResult, ScoringRun

BACKENDS = ("local", "aws")

__all__ = [
    "BACKENDS",
    "DatasetInfo",
    "Decision",
    "OptionError",
    "Pipeline",
    "PipelineError",
    "Resources",
    "Rows",
    "Run",
    "RunFailed",
    "RunOptions",
    "RunProgress",
    "RunResult",
    "ScoringOptions",
    "ScoringResult",
    "ScoringRun",
    "Step",
    "check_dataset",
    "connect",
    "print_progress",
    "read_rows",
]


def connect(backend: str, *, env: str | None = None) -> Pipeline:
    """The pipeline of `env` ($PIPELINE_ENV, default dev) on `backend`:

    * "local": the local runner in this process; its state in $PIPELINE_STATE_DIR (default .local/), the app
      synthesized there when stale, or the cloud assembly in $PIPELINE_CDK_OUT as it is.
    * "aws": the deployed stacks, with boto3's usual credentials and region (AWS_PROFILE, AWS_DEFAULT_REGION).
    """
    env = env or os.environ.get("PIPELINE_ENV") or "dev"
    if backend == "aws":
        from .aws import AwsPipeline

        return AwsPipeline(env=env)
    if backend == "local":
        from .local import LocalPipeline  # imported on demand: it brings moto and the local runner

        return LocalPipeline(env=env, state_dir=_path("PIPELINE_STATE_DIR"), cdk_out=_path("PIPELINE_CDK_OUT"))
    raise PipelineError(f"backend {backend!r} is not known; use one of {', '.join(BACKENDS)} (PIPELINE_BACKEND)")


def _path(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value) if value else None
