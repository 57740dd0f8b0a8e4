"""What both backends do the same way, through boto3 clients: upload, start, predict, describe."""

from __future__ import annotations

import json
import os
import tempfile
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
from .options import RunOptions, environment_defaults
from .run import Run
from .scoring import ScoringOptions, ScoringRun, check_file, write_rows

# The deployed stacks' CloudFormation outputs (stacks/storage_stack.py, stacks/pipeline_stack.py).
STORAGE_OUTPUTS = ("DataBucketName", "ArtifactsBucketName")
PIPELINE_OUTPUTS = ("StateMachineArn", "EndpointName", "NotificationTopicArn")
SCORING_OUTPUT = "ScoringStateMachineArn"  # only when batch_transform.enabled in config/<env>.json


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
    scoring_state_machine_arn: str | None = None  # None: this environment has no batch scoring

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
            scoring_state_machine_arn=outputs[stack_names(env)[1]].get(SCORING_OUTPUT),
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
    def _failure_hint(self, execution_arn: str) -> str:
        """Where to look when a run failed: the failure record and the job logs."""

    @abstractmethod
    def _after_run(self) -> None:
        """Called when a run has ended (the local backend saves its state)."""

    @abstractmethod
    def _scoring_fix(self) -> str:
        """How to get the scoring state machine into this backend, once config/<env>.json enables it."""

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
        # A new key per upload: a later upload never changes the data an earlier run read.
        return self._upload(info.path, f"datasets/{info.path.stem}-{_stamp()}/{info.path.name}")

    def start_run(self, data_uri: str, **options: Any) -> Run:
        """Start an execution; the options are RunOptions' fields, checked before anything starts."""
        defaults = environment_defaults(self.resources.env)
        payload = RunOptions.parse(options, defaults).to_input(self._check_data(data_uri))
        try:
            started = self.client("stepfunctions").start_execution(
                stateMachineArn=self.resources.state_machine_arn, name=_name("notebook"), input=json.dumps(payload)
            )
        except ClientError as error:
            raise _service_error(error, "start the run", "check that you may call states:StartExecution") from None
        return Run(pipeline=self, execution_arn=started["executionArn"], execution_input=payload)

    def score_dataset(
        self,
        data: Any,
        *,
        model_package_arn: str | None = None,
        skip_first_column: bool = False,
        join_input: bool = True,
        instance_type: str | None = None,
        instance_count: int | None = None,
        **unknown: Any,
    ) -> ScoringRun:
        """Score rows offline with a registered model (a SageMaker batch transform job) and return the scoring run.

        `data`: rows (lists of feature values, a Rows, or a DataFrame), the path of a CSV file (a header line is
        dropped), or an s3:// URI in the data bucket (a .csv object or a prefix/). Rows and files are uploaded
        to s3://<data bucket>/scoring/. Features only, as the endpoint takes them, unless skip_first_column: then
        the first column (a label or an id) is dropped before scoring and, with join_input, kept in the output.
        `model_package_arn`: default, the newest Approved version. `instance_type`, `instance_count`: default,
        `batch_transform` of config/<env>.json. Everything is checked before anything is uploaded or started.
        """
        options = ScoringOptions.parse(
            dict(
                model_package_arn=model_package_arn,
                skip_first_column=skip_first_column,
                join_input=join_input,
                instance_type=instance_type,
                instance_count=instance_count,
                **unknown,
            )
        )
        machine = self.resources.scoring_state_machine_arn
        if machine is None:
            env = self.resources.env
            raise PipelineError(
                f"the {env} pipeline has no batch scoring (its stack has no output ScoringStateMachineArn): set "
                f'"batch_transform": {{"enabled": true}} in config/{env}.json, then {self._scoring_fix()}'
            )
        columns = None
        if isinstance(data, str) and data.startswith("s3://"):
            uri = self._check_data(data, upload="score_dataset(path or rows)", prefix="scoring/")
        else:
            # A new key per upload, as for datasets; scoring/ is outside the prefixes that start training runs.
            name = _name(Path(data).stem if isinstance(data, str | os.PathLike) else "rows")
            with tempfile.TemporaryDirectory(prefix="scoring-") as scratch:  # rows written out, a header dropped
                if isinstance(data, str | os.PathLike):
                    copy = Path(scratch) / Path(data).name
                    checked = check_file(data, skip_first_column=skip_first_column, copy_to=copy)
                else:
                    checked = write_rows(data, Path(scratch) / "rows.csv", skip_first_column=skip_first_column)
                columns = checked.columns
                uri = self._upload(checked.path, f"scoring/{name}/{checked.path.name}")
        payload = options.to_input(uri)
        try:
            started = self.client("stepfunctions").start_execution(
                stateMachineArn=machine, name=_name("scoring"), input=json.dumps(payload)
            )
        except ClientError as error:
            raise _service_error(error, "start scoring", "check that you may call states:StartExecution") from None
        return ScoringRun(
            pipeline=self, execution_arn=started["executionArn"], execution_input=payload, input_columns=columns
        )

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

    def _upload(self, path: Path, key: str) -> str:
        bucket = self.resources.data_bucket
        try:
            self.client("s3").upload_file(str(path), bucket, key)
        except S3UploadFailedError as error:  # boto3's transfer wraps the service's ClientError in this
            raise PipelineError(
                f"cannot upload {path} to s3://{bucket}/{key}: {error}\nfix: check that you may write the bucket"
            ) from None
        return f"s3://{bucket}/{key}"

    def _check_data(self, data_uri: str, *, upload: str = "upload_dataset(path)", prefix: str = "datasets/") -> str:
        bucket = self.resources.data_bucket
        if not data_uri.startswith(f"s3://{bucket}/"):
            raise OptionError(
                f"data_uri {data_uri!r} is outside the pipeline's data bucket (the pipeline may read only that "
                f"one); upload the file with {upload}, which puts it in s3://{bucket}/{prefix}"
            )
        key = data_uri.removeprefix(f"s3://{bucket}/")
        s3 = self.client("s3")
        found = (
            s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("KeyCount", 0)
            if key.endswith("/")
            else _exists(s3, bucket, key)
        )
        if not found:
            raise PipelineError(f"data_uri {data_uri}: nothing there; upload the dataset with {upload}")
        return data_uri


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _name(prefix: str) -> str:
    """Unique enough for an execution or an upload: the time to the second and 6 random hex digits."""
    return f"{prefix}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


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
