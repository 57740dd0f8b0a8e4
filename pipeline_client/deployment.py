"""Where the pipeline's resources are: the stacks' CloudFormation Outputs, read with DescribeStacks.

The same call answers on AWS, on the local cloud's server (an endpoint URL) and in-process (the local cloud
answers it from the synthesized templates, resolved): no resource is found by guessing at names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

from stacks import contract

from .errors import PipelineError

# Stacks in these states have no usable outputs (never created, or being deleted).
UNUSABLE = ("CREATE_IN_PROGRESS", "CREATE_FAILED", "ROLLBACK_", "DELETE_", "REVIEW_IN_PROGRESS")


@dataclass(frozen=True)
class Resources:
    """The deployed pipeline's resources, one field per stack output (stacks/contract.py)."""

    env: str
    region: str
    state_machine_arn: str
    data_bucket: str
    artifacts_bucket: str
    endpoint_name: str
    notification_topic_arn: str
    scoring_state_machine_arn: str | None = None  # None: this environment has no batch scoring
    approval_state_machine_arn: str | None = None  # None: models are approved when registered
    model_package_group: str | None = None  # None: deployed by a version without that output

    @classmethod
    def from_outputs(cls, *, env: str, region: str, outputs: Mapping[str, Mapping[str, str]]) -> Resources:
        """`outputs`: stack name -> output key -> value, as DescribeStacks returns them."""
        storage_name, pipeline_name = contract.stack_names(env)
        for stack, keys in ((storage_name, contract.STORAGE_OUTPUTS), (pipeline_name, contract.PIPELINE_OUTPUTS)):
            missing = [key for key in keys if key not in outputs[stack]]
            if missing:
                raise PipelineError(
                    f"stack {stack} has no output {', '.join(missing)}: it was deployed from an older version of "
                    f"this project; deploy this one (make deploy ENV={env})"
                )
        storage, pipeline = outputs[storage_name], outputs[pipeline_name]
        return cls(
            env=env,
            region=region,
            state_machine_arn=pipeline[contract.STATE_MACHINE_OUTPUT],
            data_bucket=storage[contract.DATA_BUCKET_OUTPUT],
            artifacts_bucket=storage[contract.ARTIFACTS_BUCKET_OUTPUT],
            endpoint_name=pipeline[contract.ENDPOINT_OUTPUT],
            notification_topic_arn=pipeline[contract.TOPIC_OUTPUT],
            scoring_state_machine_arn=pipeline.get(contract.SCORING_OUTPUT),
            approval_state_machine_arn=pipeline.get(contract.APPROVAL_OUTPUT),
            model_package_group=storage.get(contract.MODEL_PACKAGE_GROUP_OUTPUT),
        )


def read_resources(cloudformation: Any, *, env: str, where: str) -> Resources:
    """The resources of `env`'s stacks; `where` names the account and region (or endpoint) in messages."""
    outputs = {name: stack_outputs(cloudformation, name, env=env, where=where) for name in contract.stack_names(env)}
    return Resources.from_outputs(env=env, region=cloudformation.meta.region_name, outputs=outputs)


def stack_outputs(cloudformation: Any, stack: str, *, env: str, where: str) -> dict[str, str]:
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except NoRegionError:
        raise PipelineError(
            "no AWS region is set: set AWS_DEFAULT_REGION (or a profile's region) to where the stacks are deployed"
        ) from None
    except NoCredentialsError:
        raise PipelineError(
            "no AWS credentials: set AWS_PROFILE, or run in a SageMaker notebook instance whose role may read "
            "the stacks (cloudformation:DescribeStacks)"
        ) from None
    except EndpointConnectionError as error:
        raise PipelineError(
            f"cannot reach {error.kwargs.get('endpoint_url')}: start the local cloud (make up), or unset "
            "AWS_ENDPOINT_URL to reach AWS"
        ) from None
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        if "does not exist" in message:
            raise PipelineError(
                f"stack {stack} is not deployed in {where}: deploy it (make deploy ENV={env}), or point "
                "AWS_PROFILE / AWS_DEFAULT_REGION (or the endpoint URL) at where it is"
            ) from None
        raise PipelineError(
            f"cannot read stack {stack}: {message}\nfix: check that your credentials may call "
            "cloudformation:DescribeStacks"
        ) from None
    status = described["StackStatus"]
    if status.startswith(UNUSABLE):
        raise PipelineError(f"stack {stack} is {status}: wait for (or fix) its deployment, then connect again")
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
