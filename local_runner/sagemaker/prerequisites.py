"""What SageMaker does as a job's or endpoint's execution role before the container starts, authorized as
that role ("CreateTrainingJob API: Execution Role Permissions" and its siblings in the SageMaker guide):
pull the image from ECR, create the log stream and put log events under /aws/sagemaker/, publish the
job's metrics, and create a grant on the key that encrypts the instance's volume. Reading the input
channels and writing the output are real S3 calls, authorized as they are made.
"""

from __future__ import annotations

import re
from typing import Any

from .. import hooks
from ..permissions import current
from ..permissions.requests import Request, grant_requests, values_at

_ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com[^/]*/(?P<repo>[^:@]+)")
_LOG_GROUPS = {
    "processing": "/aws/sagemaker/ProcessingJobs",
    "training": "/aws/sagemaker/TrainingJobs",
    "transform": "/aws/sagemaker/TransformJobs",
    "endpoint": "/aws/sagemaker/Endpoints",
}


def check(kind: str, name: str, *, image: str | None, volume_key: str | None = None) -> None:
    """Raise AccessDenied (a ServiceError) for the first prerequisite the current role may not do."""
    router = hooks.active()
    principal = current()
    if router is None or router.authorizer is None or principal is None:
        return
    store = router.authorizer.store
    requests = _image_requests(image) + _log_requests(store.region, store.account, kind, name)
    if kind != "endpoint":
        requests.append(
            Request(
                "cloudwatch:PutMetricData",
                "*",
                {"cloudwatch:namespace": _LOG_GROUPS[kind]},
                f"SageMaker publishes the {kind} job's metrics",
            )
        )
    if volume_key:
        requests += grant_requests(store, volume_key, f"SageMaker encrypts the {kind}'s volume", {})
    router.authorizer.check("sagemaker", principal, requests)


def _image_requests(image: str | None) -> list[Request]:
    match = _ECR_IMAGE.match(image or "")
    if match is None:
        return []  # an image outside ECR (none in the pipeline's templates)
    repository = f"arn:aws:ecr:{match['region']}:{match['account']}:repository/{match['repo']}"
    reason = f"SageMaker pulls {image}"
    return [
        Request("ecr:GetAuthorizationToken", "*", {}, reason),
        *(
            Request(action, repository, {}, reason)
            for action in ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")
        ),
    ]


def _log_requests(region: str, account: str, kind: str, name: str) -> list[Request]:
    group = f"arn:aws:logs:{region}:{account}:log-group:{_LOG_GROUPS[kind]}"
    stream = f"{group}:log-stream:{name}/algo-1"
    reason = f"SageMaker writes the {kind}'s logs"
    return [
        Request("logs:CreateLogStream", stream, {}, reason),
        Request("logs:PutLogEvents", stream, {}, reason),
    ]


def volume_key(record: dict[str, Any], *path: str) -> str | None:
    return next((key for key in values_at(record, path) if key), None)
