"""Register the model, then create or update the real-time endpoint and wait until it serves."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.components.workflow.autoscaling import EndpointAutoscalingStates
from stacks.components.workflow.failure_path import FailurePath
from stacks.config import EndpointAutoscaling, EndpointDeployment, ServerlessEndpoint
from stacks.config.timeouts import blue_green_timeout_seconds
from stacks.support.documents import EVALUATION, RUN

SAGEMAKER = "arn:aws:states:::sagemaker:{}"
ENDPOINT_POLL_SECONDS = 30


@dataclass(frozen=True)
class DeploymentSettings:
    role_arn: str
    key_arn: str
    model_package_group_name: str
    artifacts_bucket_name: str
    data_capture_percent: int
    endpoint_instance_types: list[str]
    endpoint_name: str
    traffic_shift: EndpointDeployment
    rollback_alarm_names: list[str]
    autoscaling: EndpointAutoscaling | None  # None: no autoscaling (a serverless endpoint scales by itself)
    serverless: ServerlessEndpoint | None = None  # set: a serverless endpoint instead of instances


def production_variant(serverless: ServerlessEndpoint | None) -> dict:
    """The endpoint's one variant: instances from the run plan, or the configured serverless capacity."""
    variant: dict = {"VariantName": "AllTraffic", "ModelName.$": RUN("jobs.model")}
    if serverless is None:
        return {
            **variant,
            "InstanceType.$": RUN("instances.endpoint.InstanceType"),
            "InitialInstanceCount.$": RUN("instances.endpoint.InitialInstanceCount"),
            "InitialVariantWeight": 1,
        }
    config = {"MemorySizeInMB": serverless.memory_size_mb, "MaxConcurrency": serverless.max_concurrency}
    if serverless.provisioned_concurrency:
        config["ProvisionedConcurrency"] = serverless.provisioned_concurrency
    return {**variant, "ServerlessConfig": config}


def data_capture(settings: DeploymentSettings) -> dict:
    """Sampled requests and responses to the artifacts bucket under KMS (instance endpoints only)."""
    return {
        "DataCaptureConfig": {
            "EnableCapture": settings.data_capture_percent > 0,
            "InitialSamplingPercentage": max(settings.data_capture_percent, 1),
            "DestinationS3Uri.$": RUN("s3.data_capture"),
            "KmsKeyId": settings.key_arn,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {
                "CsvContentTypes": ["text/csv"],
                "JsonContentTypes": ["application/json"],
            },
        }
    }


def deployment_config(shift: EndpointDeployment, alarm_names: list[str]) -> dict:
    """Blue/green update: new fleet beside the old, traffic shifted in steps, automatic rollback on alarm."""
    routing: dict = {"Type": shift.traffic_shift, "WaitIntervalInSeconds": shift.wait_seconds}
    if shift.traffic_shift == "CANARY":
        routing["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": shift.step_percent}
    elif shift.traffic_shift == "LINEAR":
        routing["LinearStepSize"] = {"Type": "CAPACITY_PERCENT", "Value": shift.step_percent}
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": shift.termination_wait_seconds,
            "MaximumExecutionTimeoutInSeconds": blue_green_timeout_seconds(shift),
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in alarm_names]},
    }


def sagemaker_task(
    scope: Construct,
    state_id: str,
    *,
    api: str,
    parameters: dict,
    comment: str,
    result_path: str,
    result_selector: dict | None = None,
) -> sfn.CustomState:
    state = {
        "Type": "Task",
        "Comment": comment,
        "Resource": SAGEMAKER.format(api),
        "Parameters": parameters,
        "ResultPath": result_path,
    }
    if result_selector:
        state["ResultSelector"] = result_selector
    return sfn.CustomState(scope, state_id, state_json=state)


def create_model_state(
    scope: Construct,
    *,
    plan: str,
    image_path: str,
    artifact_path: str,
    role_arn: str,
    result_path: str,
    comment: str,
    failures: FailurePath,
) -> sfn.CustomState:
    """CreateModel named and tagged from the run plan at `plan` (`$.run`, `$.scoring`), caught like every task."""
    state = sagemaker_task(
        scope,
        "CreateModel",
        api="createModel",
        comment=comment,
        result_selector={"arn.$": "$.ModelArn"},
        result_path=result_path,
        parameters={
            "ModelName.$": f"{plan}.jobs.model",
            "ExecutionRoleArn": role_arn,
            "PrimaryContainer": {"Image.$": image_path, "ModelDataUrl.$": artifact_path},
            "Tags": [{"Key": "pipeline-run", "Value.$": f"{plan}.id"}],
        },
    )
    failures.catch(state, step="CreateModel", job_type="none", job_name_path=None)
    return state


def describe_model_package_state(
    scope: Construct, *, arn_path: str, group_name: str, comment: str, failures: FailurePath
) -> tasks.CallAwsService:
    """DescribeModelPackage into `$.package`: its ARN, approval status and first container."""
    state = tasks.CallAwsService(
        scope,
        "DescribeModelPackage",
        state_name="DescribeModelPackage",
        comment=comment,
        service="sagemaker",
        action="describeModelPackage",
        iam_action="sagemaker:DescribeModelPackage",
        iam_resources=[Deployment.model_package_arns(scope, group_name)],
        parameters={"ModelPackageName.$": arn_path},
        result_selector={
            "arn.$": "$.ModelPackageArn",
            "status.$": "$.ModelApprovalStatus",
            # An intrinsic, not `Containers[0].Image`: one element, whatever the JSONPath engine.
            "container.$": "States.ArrayGetItem($.InferenceSpecification.Containers, 0)",
        },
        result_path="$.package",
    )
    failures.catch(state, step="DescribeModelPackage", job_type="none", job_name_path=None)
    return state


class Deployment(Construct):
    """`register` (the model registry) and `deploy` (model, endpoint config, create or update, poll, scale,
    then `done`). The training workflow registers, and deploys when its environment approves at once; the
    approval workflow only deploys. Both read the model from `$.results.model.{image,artifact}`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: DeploymentSettings,
        failures: FailurePath,
        approval_status: str,
        done: sfn.IChainable,
        register: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        model_packages = self.model_package_arns(self, settings.model_package_group_name)
        endpoint = stack.format_arn(service="sagemaker", resource="endpoint", resource_name=settings.endpoint_name)
        self.deploy: sfn.IChainable | None = None
        if approval_status == "Approved":  # otherwise a person approves, and the approval workflow deploys
            self.deploy = self._deploy(settings, endpoint, failures, done)
        if not register:
            return
        self.register = tasks.CallAwsService(
            self,
            "RegisterModel",
            state_name="RegisterModel",
            comment="Add the evaluated model to the model registry, with its metrics",
            service="sagemaker",
            action="createModelPackage",
            iam_action="sagemaker:CreateModelPackage",
            iam_resources=[model_packages],
            parameters={
                "ModelPackageGroupName": settings.model_package_group_name,
                "ModelPackageDescription.$": "States.Format('{} run {}: {} = {}', "
                f"{RUN('algorithm')}, {RUN('id')}, {RUN('objective.metric')}, {EVALUATION('objective.value')})",
                "ModelApprovalStatus": approval_status,
                "InferenceSpecification": {
                    "Containers": [{"Image.$": "$.results.model.image", "ModelDataUrl.$": "$.results.model.artifact"}],
                    "SupportedContentTypes": ["text/csv", "application/json"],
                    "SupportedResponseMIMETypes": ["text/csv", "application/json"],
                    "SupportedRealtimeInferenceInstanceTypes": settings.endpoint_instance_types,
                },
                "ModelMetrics": {
                    "ModelQuality": {
                        "Statistics": {
                            "ContentType": "application/json",
                            "S3Uri.$": f"States.Format('{{}}evaluation.json', {RUN('s3.evaluation')})",
                        }
                    }
                },
                "CustomerMetadataProperties": {
                    "run_id.$": RUN("id"),
                    "algorithm.$": RUN("algorithm"),
                    "objective_metric.$": RUN("objective.metric"),
                    "objective_value.$": f"States.Format('{{}}', {EVALUATION('objective.value')})",
                    "training_job.$": "$.results.model.training_job",
                },
            },
            result_selector={"arn.$": "$.ModelPackageArn"},
            result_path="$.results.model_package",
        )
        failures.catch(self.register, step="RegisterModel", job_type="none", job_name_path=None)

    @staticmethod
    def model_package_arns(scope: Construct, group_name: str) -> str:
        return Stack.of(scope).format_arn(
            service="sagemaker", resource="model-package", resource_name=f"{group_name}/*"
        )

    def _deploy(
        self, settings: DeploymentSettings, endpoint: str, failures: FailurePath, done: sfn.IChainable
    ) -> sfn.Chain:
        create_model = create_model_state(
            self,
            plan=RUN(),
            image_path="$.results.model.image",
            artifact_path="$.results.model.artifact",
            role_arn=settings.role_arn,
            result_path="$.results.sagemaker_model",
            comment="A SageMaker model from the registered artifact",
            failures=failures,
        )

        create_config = sagemaker_task(
            self,
            "CreateEndpointConfig",
            api="createEndpointConfig",
            comment="Serverless capacity and KMS"
            if settings.serverless
            else "Instances, KMS and data capture of requests and responses",
            result_selector={"arn.$": "$.EndpointConfigArn"},
            result_path="$.results.endpoint_config",
            parameters={
                "EndpointConfigName.$": RUN("jobs.config"),
                "ProductionVariants": [production_variant(settings.serverless)],
                "KmsKeyId": settings.key_arn,
                **({} if settings.serverless else data_capture(settings)),
                "Tags": [{"Key": "pipeline-run", "Value.$": RUN("id")}],
            },
        )
        failures.catch(create_config, step="CreateEndpointConfig", job_type="none", job_name_path=None)

        find = tasks.CallAwsService(
            self,
            "FindEndpoint",
            state_name="FindEndpoint",
            comment="Does this pipeline's endpoint exist yet?",
            service="sagemaker",
            action="listEndpoints",
            iam_resources=["*"],
            iam_action="sagemaker:ListEndpoints",
            parameters={"NameContains.$": RUN("endpoint_name"), "MaxResults": 100},
            result_selector={"names.$": "$.Endpoints[*].EndpointName"},
            result_path="$.existing",
        )
        failures.catch(find, step="FindEndpoint", job_type="none", job_name_path=None)
        # NameContains matches substrings: compare whole names.
        exists = sfn.Pass(
            self,
            "CheckEndpointExists",
            state_name="CheckEndpointExists",
            parameters={"exists.$": f"States.ArrayContains($.existing.names, {RUN('endpoint_name')})"},
            result_path="$.existing",
        )

        endpoint_request = {"EndpointName.$": RUN("endpoint_name"), "EndpointConfigName.$": RUN("jobs.config")}
        create = sagemaker_task(
            self,
            "CreateEndpoint",
            api="createEndpoint",
            comment="First deployment of this pipeline",
            parameters={**endpoint_request, "Tags": [{"Key": "pipeline-run", "Value.$": RUN("id")}]},
            result_selector={"action": "create"},
            result_path="$.deployment",
        )
        failures.catch(
            create, step="CreateEndpoint", job_type="endpoint", job_name_path=RUN("endpoint_name"), action="create"
        )
        update = sagemaker_task(
            self,
            "UpdateEndpoint",
            api="updateEndpoint",
            comment="Blue/green: SageMaker serves the old model until the new one is healthy; rolls back on alarm",
            parameters={
                **endpoint_request,
                "DeploymentConfig": deployment_config(settings.traffic_shift, settings.rollback_alarm_names),
            },
            result_selector={"action": "update"},
            result_path="$.deployment",
        )
        failures.catch(
            update, step="UpdateEndpoint", job_type="endpoint", job_name_path=RUN("endpoint_name"), action="update"
        )

        wait = sfn.Wait(
            self,
            "WaitForEndpoint",
            state_name="WaitForEndpoint",
            time=sfn.WaitTime.duration(Duration.seconds(ENDPOINT_POLL_SECONDS)),
        )
        describe = tasks.CallAwsService(
            self,
            "DescribeEndpoint",
            state_name="DescribeEndpoint",
            service="sagemaker",
            action="describeEndpoint",
            iam_action="sagemaker:DescribeEndpoint",
            iam_resources=[endpoint],
            parameters={"EndpointName.$": RUN("endpoint_name")},
            result_selector={
                "status.$": "$.EndpointStatus",
                "arn.$": "$.EndpointArn",
                "config.$": "$.EndpointConfigName",
                "details.$": "$",
            },
            result_path="$.endpoint",
        )
        failures.catch(
            describe,
            step="DescribeEndpoint",
            job_type="endpoint",
            job_name_path=RUN("endpoint_name"),
            action_path="$.deployment.action",
        )
        deploy_failed = failures.describe(
            step="Deploy", job_type="endpoint", job_name_path=RUN("endpoint_name"), action_path="$.deployment.action"
        )
        endpoint_failed = sfn.Pass(
            self,
            "EndpointFailed",
            state_name="EndpointFailed",
            parameters={"Error": "EndpointFailed", "Cause.$": "$.endpoint.details.FailureReason"},
            result_path="$.error",
        ).next(deploy_failed)
        # After an automatic rollback (an alarm, or a new fleet that failed) the endpoint is InService again,
        # with the previous config; the failure handler adds SageMaker's FailureReason to the cause.
        rolled_back = sfn.Pass(
            self,
            "DeploymentRolledBack",
            state_name="DeploymentRolledBack",
            parameters={
                "Error": "DeploymentRolledBack",
                "Cause.$": "States.Format('The update was rolled back: the endpoint still serves {}, not {}', "
                f"$.endpoint.config, {RUN('jobs.config')})",
            },
            result_path="$.error",
        ).next(deploy_failed)
        # No FailureReason (e.g. someone deleted the endpoint mid-deploy): say what state it is in instead.
        endpoint_unusable = sfn.Pass(
            self,
            "EndpointUnusable",
            state_name="EndpointUnusable",
            parameters={
                "Error": "EndpointFailed",
                "Cause.$": "States.Format('The endpoint {} went {} during the deployment', "
                f"{RUN('endpoint_name')}, $.endpoint.status)",
            },
            result_path="$.error",
        ).next(deploy_failed)
        in_service = sfn.Condition.string_equals("$.endpoint.status", "InService")
        # Every status that will not turn into InService by waiting (botocore's EndpointStatus enum).
        dead_end = sfn.Condition.or_(
            *(
                sfn.Condition.string_equals("$.endpoint.status", status)
                for status in ("Failed", "UpdateRollbackFailed", "OutOfService", "Deleting")
            )
        )

        serving: sfn.IChainable = done
        if settings.autoscaling is not None:
            serving = EndpointAutoscalingStates(
                self,
                "Autoscaling",
                settings=settings.autoscaling,
                endpoint_name=settings.endpoint_name,
                failures=failures,
            ).chain.next(done)
        poll = wait.next(describe).next(
            sfn.Choice(self, "EndpointInService", state_name="EndpointInService?")
            .when(
                sfn.Condition.and_(
                    in_service, sfn.Condition.string_equals_json_path("$.endpoint.config", RUN("jobs.config"))
                ),
                serving,
            )
            .when(in_service, rolled_back)
            .when(
                sfn.Condition.and_(dead_end, sfn.Condition.is_present("$.endpoint.details.FailureReason")),
                endpoint_failed,
            )
            .when(dead_end, endpoint_unusable)
            .otherwise(wait)
        )
        create.next(poll)
        update.next(poll)
        return (
            create_model.next(create_config)
            .next(find)
            .next(exists)
            .next(
                sfn.Choice(self, "EndpointExists", state_name="EndpointExists?")
                .when(sfn.Condition.boolean_equals("$.existing.exists", True), update)
                .otherwise(create)
            )
        )
