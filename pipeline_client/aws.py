"""The deployed pipeline on AWS, found through its stacks' CloudFormation outputs; boto3 only."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, ClassVar

import boto3
from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError

from .base import Pipeline, Resources, stack_names
from .errors import PipelineError

# Stacks in these states have no usable outputs (never created, or being deleted).
UNUSABLE = ("CREATE_IN_PROGRESS", "CREATE_FAILED", "ROLLBACK_", "DELETE_", "REVIEW_IN_PROGRESS")


class AwsPipeline(Pipeline):
    backend: ClassVar[str] = "aws"

    def __init__(
        self,
        *,
        env: str = "dev",
        session: boto3.session.Session | None = None,
        poll_seconds: float = 5.0,  # jobs take minutes; DescribeExecution is throttled per account
    ):
        self.poll_seconds = poll_seconds
        self.session = session or boto3.session.Session()
        self._clients: dict[str, Any] = {}
        self.env = env
        outputs = {name: self._outputs(name) for name in stack_names(env)}
        resources = Resources.from_outputs(
            backend=self.backend, env=env, region=self.session.region_name, outputs=outputs
        )
        super().__init__(resources=resources, work_dir=Path(tempfile.gettempdir()) / "pipeline_client")

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]

    def close(self) -> None:
        """Close the HTTP connections. The endpoint belongs to the deployed pipeline: it keeps serving."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def _after_run(self) -> None:
        return None  # the run's state is in AWS already

    def _scoring_fix(self) -> str:
        return f"deploy the stacks again (make deploy ENV={self.env}) and connect again"

    def _outputs(self, stack: str) -> dict[str, str]:
        try:
            described = self.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        except NoRegionError:
            raise PipelineError(
                "no AWS region is set: set AWS_DEFAULT_REGION (or a profile's region) to where the stacks are deployed"
            ) from None
        except NoCredentialsError:
            raise PipelineError(
                "no AWS credentials: set AWS_PROFILE, or run in a SageMaker notebook instance whose role may read "
                "the stacks (cloudformation:DescribeStacks)"
            ) from None
        except ClientError as error:
            message = error.response.get("Error", {}).get("Message", "")
            if "does not exist" in message:
                raise PipelineError(
                    f"stack {stack} is not deployed in {self.session.region_name}: deploy it (make deploy "
                    f"ENV={self.env}), or point AWS_PROFILE / AWS_DEFAULT_REGION at the account and region that have it"
                ) from None
            raise PipelineError(
                f"cannot read stack {stack}: {message}\nfix: check that your credentials may call "
                "cloudformation:DescribeStacks"
            ) from None
        status = described["StackStatus"]
        if status.startswith(UNUSABLE):
            raise PipelineError(f"stack {stack} is {status}: wait for (or fix) its deployment, then connect again")
        return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}

    def _failure_hint(self, execution_arn: str) -> str:
        region, name = self.resources.region, execution_arn.rsplit(":", 1)[-1]
        return (
            f"the failure record is s3://{self.resources.artifacts_bucket}/failures/{name}/failure.json; "
            "the jobs' logs are in CloudWatch Logs (/aws/sagemaker/ProcessingJobs, /aws/sagemaker/TrainingJobs, "
            "/aws/sagemaker/TransformJobs); the execution: "
            f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"
        )
