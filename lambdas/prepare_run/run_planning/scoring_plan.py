"""Validate a batch-scoring input and plan its names, paths and the transform job's data handling.

A scoring run scores a dataset offline with a registered model: the one given, or the group's newest
Approved package (the state machine looks it up when `model_package_arn` is null).
"""

from __future__ import annotations

import re
from typing import Any

from .plan_model import (
    DataProcessing,
    ScoringJobNames,
    ScoringLocations,
    ScoringPlan,
    TransformResources,
    as_json,
)
from .run_input import S3_LOCATION, InvalidExecutionInput, check_allowed, check_data_location, check_schema
from .run_plan import run_id
from .settings import ScoringSettings

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["data"],
    "additionalProperties": False,
    "properties": {
        "data": S3_LOCATION,
        "model_package_arn": {"type": "string"},
        # Rows are features only, as the endpoint takes them; `skip_first_column` drops a label column.
        "skip_first_column": {"type": "boolean"},
        # Each output line is the input row followed by its prediction, so ids stay beside their scores.
        "join_input": {"type": "boolean"},
        "instance_type": {"type": "string"},
        "instance_count": {"type": "integer", "minimum": 1, "maximum": 100},
    },
}
_PACKAGE_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/(?P<group>[^/]+)/\d+$")


def plan_scoring(raw: Any, settings: ScoringSettings, *, execution_name: str, start_time: str) -> dict[str, Any]:
    """The scoring plan (plan_model.ScoringPlan) as the state machine receives it."""
    request = check_schema(raw, SCHEMA, _fix)
    group, defaults = settings.model_package_group, settings.defaults
    rid = run_id(execution_name, start_time)
    package = request.get("model_package_arn")
    if package is not None:
        match = _PACKAGE_ARN.match(package)
        if not match or match["group"] != group:
            raise InvalidExecutionInput(
                f"model_package_arn: {package!r} is not a version of this pipeline's model group {group!r}; give "
                f"arn:aws:sagemaker:REGION:ACCOUNT:model-package/{group}/VERSION, or leave it out to use the "
                "newest Approved one"
            )
    instance_type = check_allowed(
        "transform",
        request.get("instance_type", defaults["instance_type"]),
        defaults["allowed_instance_types"],
        field="instance_type",
    )
    return as_json(
        ScoringPlan(
            id=rid,
            model_package_arn=package,
            jobs=ScoringJobNames(model=f"score-model-{rid}", transform=f"score-{rid}"),
            s3=ScoringLocations(
                input=check_data_location(request["data"], settings.data_bucket),
                output=f"s3://{settings.artifacts_bucket}/scoring/{rid}/",
            ),
            resources=TransformResources(
                InstanceType=instance_type,
                InstanceCount=request.get("instance_count", defaults["instance_count"]),
            ),
            data_processing=DataProcessing(
                InputFilter="$[1:]" if request.get("skip_first_column", False) else "$",
                JoinSource="Input" if request.get("join_input", True) else "None",
                OutputFilter="$",
            ),
        )
    )


def _fix(field: str) -> str:
    return (
        'the scoring input is {"data": "s3://DATA-BUCKET/PREFIX/", "model_package_arn"?, "skip_first_column"?, '
        '"join_input"?, "instance_type"?, "instance_count"?} (docs/pipeline.md, batch scoring)'
    )
