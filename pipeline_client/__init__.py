"""Start pipeline runs and call the endpoint from Python: one client of the AWS APIs, for the local cloud and AWS.

pipeline = connect("local")               # in this process; connect("aws") for AWS or, with
                                          # endpoint_url= (or $AWS_ENDPOINT_URL), the local cloud's server
uri = pipeline.upload_dataset("data.csv")  # label first, numbers only
result = pipeline.start_run(uri, algorithm="xgboost", tuning=False).wait(progress=print_progress)
print(result.decision, pipeline.predict([[...features...]]))
scored = pipeline.score_dataset([[...features...], ...]).wait()   # offline, a batch transform job
print(scored.predictions())
"""

from __future__ import annotations

import os
from pathlib import Path

from .client import PipelineClient
from .dataset import DatasetInfo, Rows, check_dataset, read_rows
from .deployment import Resources
from .errors import OptionError, PipelineError, RunFailed
from .options import RunOptions
from .results import Decision, RunProgress, RunResult, Step, print_progress
from .run import Run
from .scoring_options import ScoringOptions
from .scoring_result import ScoringResult
from .scoring_run import ScoringRun

TARGETS = ("local", "aws")

__all__ = [
    "TARGETS",
    "DatasetInfo",
    "Decision",
    "OptionError",
    "PipelineClient",
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


def connect(target: str = "aws", *, env: str | None = None, endpoint_url: str | None = None) -> PipelineClient:
    """The pipeline of `env` ($PIPELINE_ENV, default dev), through the AWS APIs:

    * "aws": the deployed stacks, with boto3's usual credentials and region (AWS_PROFILE, AWS_DEFAULT_REGION);
      with `endpoint_url` (or $AWS_ENDPOINT_URL) the calls go there instead, e.g. the local cloud's server
      (`make up`, http://127.0.0.1:4566).
    * "local": the local cloud started in this process; its state in $PIPELINE_STATE_DIR (default .local/), the
      app synthesized there when stale, or the cloud assembly in $PIPELINE_CDK_OUT as it is.
    """
    env = env or os.environ.get("PIPELINE_ENV") or "dev"
    if target == "aws":
        return PipelineClient(env=env, endpoint_url=endpoint_url)
    if target == "local":
        if endpoint_url:
            raise PipelineError(
                f"connect('local') starts the local cloud in this process and takes no endpoint_url; for the "
                f"local cloud's server at {endpoint_url} use connect('aws', endpoint_url={endpoint_url!r})"
            )
        from .in_process import open_local  # imported on demand: it brings moto and the local runner

        return open_local(env=env, state_dir=_path("PIPELINE_STATE_DIR"), cdk_out=_path("PIPELINE_CDK_OUT"))
    raise PipelineError(
        f"target {target!r} is not known; use one of {', '.join(TARGETS)} (the notebook reads it from PIPELINE_BACKEND)"
    )


def _path(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value) if value else None
