"""The pipeline's one client: the AWS APIs through boto3, on AWS, on the local cloud's server (an endpoint URL)
or in-process on the local cloud. Upload, start, follow, predict and score are the same calls everywhere."""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError, NoRegionError

from .dataset import check_dataset
from .deployment import Resources, read_resources
from .errors import OptionError, PipelineError
from .options import RunOptions, environment_defaults
from .run import Run
from .scoring_data import check_scoring_file, write_scoring_rows
from .scoring_options import ScoringOptions
from .scoring_run import ScoringRun

if TYPE_CHECKING:
    from .in_process import InProcessCloud

AWS_POLL_SECONDS = 5.0  # jobs take minutes; DescribeExecution is throttled per account
LOCAL_POLL_SECONDS = 0.25  # the local cloud's jobs take seconds


class PipelineClient:
    """The deployed pipeline of `env`, found through its stacks' outputs (stacks/contract.py).

    `session`: boto3's (credentials and region; default, boto3's usual chain). `endpoint_url`: every call goes
    there (the local cloud's server, `make up`); default, $AWS_ENDPOINT_URL, as the AWS CLI and boto3 read it.
    `local`: the in-process local cloud this client runs on (see in_process.py), which owns its lifecycle.
    """

    def __init__(
        self,
        *,
        env: str = "dev",
        session: boto3.session.Session | None = None,
        endpoint_url: str | None = None,
        resources: Resources | None = None,
        poll_seconds: float | None = None,
        work_dir: Path | None = None,
        local: InProcessCloud | None = None,
    ):
        self.session = session or boto3.session.Session()
        self.endpoint_url = endpoint_url
        self.local = local
        self._clients: dict[str, Any] = {}
        self._closed = False
        nearby = local is not None or endpoint_url is not None or bool(os.environ.get("AWS_ENDPOINT_URL"))
        if poll_seconds is None:
            poll_seconds = LOCAL_POLL_SECONDS if nearby else AWS_POLL_SECONDS
        self.poll_seconds = poll_seconds
        self.work_dir = work_dir or Path(tempfile.gettempdir()) / "pipeline_client"
        where = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or self.session.region_name or "this region"
        self.resources = resources or read_resources(self.client("cloudformation"), env=env, where=where)

    @property
    def env(self) -> str:
        return self.resources.env

    def client(self, service: str) -> Any:
        """A boto3 client of this pipeline's account and region (or endpoint)."""
        if self._closed or (self.local is not None and self.local.closed):
            raise PipelineError("this pipeline client is closed; connect again (connect(...))")
        if service not in self._clients:
            try:
                self._clients[service] = self.session.client(service, endpoint_url=self.endpoint_url)
            except NoRegionError:
                raise PipelineError(
                    "no AWS region is set: set AWS_DEFAULT_REGION (or a profile's region) to where the stacks are "
                    "deployed"
                ) from None
        return self._clients[service]

    def describe(self) -> Resources:
        return self.resources

    def close(self, *, keep_serving: bool = False) -> None:
        """Close the HTTP connections. On AWS the endpoint belongs to the deployed pipeline and keeps serving; an
        in-process local cloud stops, and its endpoint servers with it unless keep_serving."""
        if self._closed:
            return
        self._closed = True
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        if self.local is not None:
            self.local.close(keep_serving=keep_serving)

    def __enter__(self) -> PipelineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "in-process local cloud" if self.local else self.endpoint_url or self.session.region_name
        return f"PipelineClient(env={self.env!r}, at={where!r})"

    # -- runs ---------------------------------------------------------------------------
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
        return self.start(RunOptions.parse(options, environment_defaults(self.env)), data_uri)

    def start(self, options: RunOptions, data_uri: str, *, name_prefix: str = "notebook") -> Run:
        """Start an execution with checked options: the one place the execution input is built."""
        payload = options.to_input(self._check_data(data_uri))
        arn = self._start(self.resources.state_machine_arn, payload, name_prefix, "start the run")
        return Run(pipeline=self, execution_arn=arn, execution_input=payload)

    # -- scoring --------------------------------------------------------------------------
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
            env = self.env
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
                    checked = check_scoring_file(data, skip_first_column=skip_first_column, copy_to=copy)
                else:
                    checked = write_scoring_rows(data, Path(scratch) / "rows.csv", skip_first_column=skip_first_column)
                columns = checked.columns
                uri = self._upload(checked.path, f"scoring/{name}/{checked.path.name}")
        payload = options.to_input(uri)
        arn = self._start(machine, payload, "scoring", "start scoring")
        return ScoringRun(pipeline=self, execution_arn=arn, execution_input=payload, input_columns=columns)

    # -- the endpoint ---------------------------------------------------------------------
    def predict(self, rows: Sequence[Sequence[float | None]]) -> list[dict[str, Any]]:
        """Rows of features (no label) to the real-time endpoint as text/csv; one prediction per row."""
        document = json.loads(self.invoke(_csv_body(rows)))
        # training_code's JSON shapes: predictions (most tasks), scores (anomaly), projections (reduction).
        for key in ("predictions", "scores", "projections"):
            if key in document:
                return document[key]
        raise PipelineError(
            f"endpoint {self.resources.endpoint_name} answered {str(document)[:200]}; expected training_code's JSON"
        )

    def invoke(self, body: str) -> str:
        """The endpoint's answer to a text/csv body, as it is (JSON)."""
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
            raise service_error(error, f"invoke endpoint {name}", fix) from None
        return answer["Body"].read().decode()

    # -- what differs by where the pipeline runs ------------------------------------------------
    def after_run(self) -> None:
        """Called when a followed execution has ended: an in-process local cloud saves its state."""
        if self.local is not None:
            self.local.save()

    def failure_hint(self, execution_arn: str) -> str:
        """Where to look when a run failed: the failure record and the job logs."""
        name = execution_arn.rsplit(":", 1)[-1]
        if self.local is not None:
            return self.local.failure_hint(self.resources, name)
        region = self.resources.region
        return (
            f"the failure record is s3://{self.resources.artifacts_bucket}/failures/{name}/failure.json; "
            "the jobs' logs are in CloudWatch Logs (/aws/sagemaker/ProcessingJobs, /aws/sagemaker/TrainingJobs, "
            "/aws/sagemaker/TransformJobs); the execution: "
            f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"
        )

    def _scoring_fix(self) -> str:
        if self.local is not None:
            return self.local.scoring_fix(self.env)
        return f"deploy the stacks again (make deploy ENV={self.env}) and connect again"

    # -- calls ----------------------------------------------------------------------------------
    def _start(self, machine: str, payload: dict[str, Any], prefix: str, action: str) -> str:
        try:
            started = self.client("stepfunctions").start_execution(
                stateMachineArn=machine, name=_name(prefix), input=json.dumps(payload)
            )
        except ClientError as error:
            raise service_error(error, action, "check that you may call states:StartExecution") from None
        return started["executionArn"]

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
        raise service_error(error, f"read s3://{bucket}/{key}", "check that you may read the data bucket") from None
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


def service_error(error: ClientError, action: str, fix: str) -> PipelineError:
    details = error.response.get("Error", {})
    return PipelineError(f"cannot {action}: {details.get('Code')}: {details.get('Message')}\nfix: {fix}")
