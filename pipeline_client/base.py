"""What both backends do the same way, through boto3 clients: upload, start, predict, describe."""

from __future__ import annotations

import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError

from .dataset import check_dataset
from .errors import OptionError, PipelineError
from .options import RunOptions
from .run import Run

# The deployed stacks' CloudFormation outputs (stacks/storage_stack.py, stacks/pipeline_stack.py).
STORAGE_OUTPUTS = ("DataBucketName", "ArtifactsBucketName")
PIPELINE_OUTPUTS = ("StateMachineArn", "EndpointName", "NotificationTopicArn")


def stack_names(env: str) -> tuple[str, str]:
    """(storage, pipeline): the CloudFormation stack names, which stay the same inside the CDK Stage."""
    return f"SageMakerPipeline-{env}-Storage", f"SageMakerPipeline-{env}-Pipeline"


@dataclass(frozen=True)
class Resources:
    backend: str
    env: str
    region: str
    state_machine_arn: str
    data_bucket: str
    artifacts_bucket: str
    endpoint_name: str
    notification_topic_arn: str

    @classmethod
    def from_outputs(
        cls, *, backend: str, env: str, region: str, outputs: Mapping[str, Mapping[str, str]]
    ) -> Resources:
        """`outputs`: stack name -> output key -> value, as the stacks were deployed (or synthesized)."""
        values = {}
        for stack, keys in zip(stack_names(env), (STORAGE_OUTPUTS, PIPELINE_OUTPUTS), strict=True):
            for key in keys:
                if key not in outputs[stack]:
                    raise PipelineError(
                        f"stack {stack} has no output {key}: it was deployed from an older version of this "
                        f"project; deploy this one (make deploy ENV={env})"
                    )
                values[key] = outputs[stack][key]
        return cls(
            backend=backend,
            env=env,
            region=region,
            state_machine_arn=values["StateMachineArn"],
            data_bucket=values["DataBucketName"],
            artifacts_bucket=values["ArtifactsBucketName"],
            endpoint_name=values["EndpointName"],
            notification_topic_arn=values["NotificationTopicArn"],
        )


class Pipeline(ABC):
    """The deployed (or local) pipeline. Subclasses say where the resources are and which clients to use."""

    backend: ClassVar[str]
    poll_seconds: float  # between two DescribeExecution calls while a run is followed

    def __init__(self, *, resources: Resources, work_dir: Path):
        self.resources = resources
        self.work_dir = work_dir

    @abstractmethod
    def client(self, service: str) -> Any:
        """A boto3 client of this backend."""

    @abstractmethod
    def _failure_hint(self, execution_name: str) -> str:
        """Where to look when a run failed: the failure record and the job logs."""

    @abstractmethod
    def _after_run(self) -> None:
        """Called when a run has ended (the local backend saves its state)."""

    def describe(self) -> Resources:
        return self.resources

    @abstractmethod
    def close(self) -> None:
        """Release what this object holds."""

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sample_dataset(self) -> Path:
        """The breast-cancer data (569 rows, 30 features) as local_runner writes it: label first, no header."""
        from local_runner.dataset import default_dataset  # imported here: local_runner brings moto with it

        return default_dataset(self.work_dir / "datasets" / "breast_cancer.csv")

    def upload_dataset(self, path: Path | str) -> str:
        """Check the CSV, upload it to the data bucket under a new key and return its s3:// URI."""
        info = check_dataset(path)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        # A new key per upload: a later upload never changes the data an earlier run read.
        key = f"datasets/{info.path.stem}-{stamp}/{info.path.name}"
        bucket = self.resources.data_bucket
        try:
            self.client("s3").upload_file(str(info.path), bucket, key)
        except S3UploadFailedError as error:  # boto3's transfer wraps the service's ClientError in this
            raise PipelineError(
                f"cannot upload {info.path} to s3://{bucket}/{key}: {error}\nfix: check that you may write the bucket"
            ) from None
        return f"s3://{bucket}/{key}"

    def start_run(self, data_uri: str, **options: Any) -> Run:
        """Start an execution; the options are RunOptions' fields, checked before anything starts."""
        payload = RunOptions.parse(options).to_input(self._check_data(data_uri))
        name = f"notebook-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        try:
            started = self.client("stepfunctions").start_execution(
                stateMachineArn=self.resources.state_machine_arn, name=name, input=json.dumps(payload)
            )
        except ClientError as error:
            raise _service_error(error, "start the run", "check that you may call states:StartExecution") from None
        return Run(pipeline=self, execution_arn=started["executionArn"], execution_input=payload)

    def predict(self, rows: Sequence[Sequence[float | None]]) -> list[dict[str, Any]]:
        """Rows of features (no label) to the real-time endpoint as text/csv; one prediction per row."""
        body = _csv_body(rows)
        name = self.resources.endpoint_name
        try:
            answer = self.client("sagemaker-runtime").invoke_endpoint(
                EndpointName=name, ContentType="text/csv", Accept="application/json", Body=body
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            fix = (
                "the model rejected the rows: send the features only (no label column), as many as in training"
                if code == "ModelError"
                else "no model serves there yet: run the pipeline to a DEPLOYED decision first"
            )
            raise _service_error(error, f"invoke endpoint {name}", fix) from None
        document = json.loads(answer["Body"].read())
        # training_code's JSON shapes: predictions (most tasks), scores (anomaly), projections (reduction).
        for key in ("predictions", "scores", "projections"):
            if key in document:
                return document[key]
        raise PipelineError(f"endpoint {name} answered {str(document)[:200]}; expected training_code's JSON")

    def _check_data(self, data_uri: str) -> str:
        bucket = self.resources.data_bucket
        if not data_uri.startswith(f"s3://{bucket}/"):
            raise OptionError(
                f"data_uri {data_uri!r} is outside the pipeline's data bucket (the pipeline may read only that "
                f"one); upload the file with upload_dataset(path), which puts it in s3://{bucket}/datasets/"
            )
        key = data_uri.removeprefix(f"s3://{bucket}/")
        s3 = self.client("s3")
        found = (
            s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("KeyCount", 0)
            if key.endswith("/")
            else _exists(s3, bucket, key)
        )
        if not found:
            raise PipelineError(f"data_uri {data_uri}: nothing there; upload the dataset with upload_dataset(path)")
        return data_uri


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise _service_error(error, f"read s3://{bucket}/{key}", "check that you may read the data bucket") from None
    return True


def _csv_body(rows: Sequence[Sequence[float | None]]) -> str:
    if isinstance(rows, str | bytes) or not rows:
        raise PipelineError("predict(rows): give a non-empty list of rows, each a list of feature values")
    lines = []
    for number, row in enumerate(rows, start=1):
        if isinstance(row, str | bytes) or not isinstance(row, Sequence):
            raise PipelineError(f"predict(rows): row {number} is {type(row).__name__}; give a list of numbers")
        cells = []
        for value in row:
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise PipelineError(f"predict(rows): row {number} holds {value!r}; features are numbers (or None)")
            cells.append("" if value is None else repr(float(value)))
        lines.append(",".join(cells))
    return "\n".join(lines)


def _service_error(error: ClientError, action: str, fix: str) -> PipelineError:
    details = error.response.get("Error", {})
    return PipelineError(f"cannot {action}: {details.get('Code')}: {details.get('Message')}\nfix: {fix}")
