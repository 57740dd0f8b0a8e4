"""What the stacks promise their clients: stage and stack names, output keys, the execution input's limits.

The one place these facts are spelled. It lives with the stacks because the stacks create them and must not
import their clients; pipeline_client, local_runner and tools import it from here. Plain Python only (no
aws_cdk), so a notebook without the CDK can import it.
"""

from __future__ import annotations

STAGE_PREFIX = "SageMakerPipeline"

# CfnOutput ids, which are also the output keys DescribeStacks returns.
DATA_BUCKET_OUTPUT = "DataBucketName"  # storage stack
ARTIFACTS_BUCKET_OUTPUT = "ArtifactsBucketName"  # storage stack
MODEL_PACKAGE_GROUP_OUTPUT = "ModelPackageGroupName"  # storage stack
STATE_MACHINE_OUTPUT = "StateMachineArn"  # pipeline stack: the training workflow, which a run starts
ENDPOINT_OUTPUT = "EndpointName"  # pipeline stack
TOPIC_OUTPUT = "NotificationTopicArn"  # pipeline stack
SCORING_OUTPUT = "ScoringStateMachineArn"  # pipeline stack, only when batch_transform.enabled
APPROVAL_OUTPUT = "ApprovalStateMachineArn"  # pipeline stack, only with manual model approval

STORAGE_OUTPUTS = (DATA_BUCKET_OUTPUT, ARTIFACTS_BUCKET_OUTPUT)  # required of a usable deployment
PIPELINE_OUTPUTS = (STATE_MACHINE_OUTPUT, ENDPOINT_OUTPUT, TOPIC_OUTPUT)

# The execution input's limits and choices (lambdas/prepare_run/run_planning/run_input.py checks them again on
# the pipeline's side: the Lambda is packaged alone and cannot import this module; a test keeps them equal).
STRATEGIES = ("Bayesian", "Random", "Hyperband", "Grid")
INSTANCE_KINDS = ("processing", "training", "endpoint")  # the execution input's instance_types
MAX_JOBS = 500
MAX_PARALLEL = 100
MAX_SCORING_INSTANCES = 100  # the scoring input's instance_count (run_planning/scoring_plan.py)


def stage_name(env: str) -> str:
    """The CDK Stage that holds an environment's stacks, and the prefix of their CloudFormation stack names."""
    return f"{STAGE_PREFIX}-{env}"


def storage_stack_name(env: str) -> str:
    return f"{stage_name(env)}-Storage"


def pipeline_stack_name(env: str) -> str:
    return f"{stage_name(env)}-Pipeline"


def stack_names(env: str) -> tuple[str, str]:
    """(storage, pipeline): the CloudFormation stack names, which stay the same inside the CDK Stage."""
    return storage_stack_name(env), pipeline_stack_name(env)
