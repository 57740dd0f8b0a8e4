"""The stateless stack: image, roles, functions, the state machine and its failure handling.

It receives the storage stack's resources; deleting or replacing it leaves every byte of data in place.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from constructs import Construct

from stacks import contract
from stacks.components.endpoint_monitoring import EndpointAlarms, PipelineDashboard
from stacks.components.failure_alerts import FailureBackstop, NotificationTopic
from stacks.components.monitoring.model_monitoring import ModelMonitoring, MonitoringInputs
from stacks.components.monitoring.nag import acknowledge_monitoring_findings
from stacks.components.monitoring.settings import MonitoringSettings
from stacks.components.pipeline_functions import PipelineFunctions
from stacks.components.run_triggers import RunTriggers
from stacks.components.sagemaker_execution_role import SageMakerExecutionRole
from stacks.components.training_image import TrainingImage
from stacks.components.workflow.approval_workflow import ApprovalWorkflow
from stacks.components.workflow.deployment import DeploymentSettings
from stacks.components.workflow.permissions import grant_scoring_calls, grant_workflow_calls
from stacks.components.workflow.pipeline_workflow import PipelineWorkflow, WorkflowResources
from stacks.components.workflow.sagemaker_jobs import JobSettings
from stacks.components.workflow.scoring_workflow import ScoringResources, ScoringWorkflow
from stacks.config import AppConfig, run_defaults, scoring_defaults
from stacks.nag import acknowledge
from stacks.storage_stack import StorageStack
from stacks.support.nag_reasons import CDK_INLINE, NO_RESERVED_CONCURRENCY, NO_VPC
from training_code.metrics import METRIC_DEFINITIONS


class PipelineStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: AppConfig, storage: StorageStack, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, termination_protection=config.termination_protection, **kwargs)
        # The endpoint is created by the workflow at run time, so its name is the workflow's to choose.
        endpoint_name = f"{self.stack_name.lower()}-endpoint"[:63]
        image = TrainingImage(self, "TrainingImage", repository=storage.repository, key=storage.key)
        sagemaker_role = SageMakerExecutionRole(
            self,
            "SageMakerExecution",
            data_bucket=storage.data_bucket,
            artifacts_bucket=storage.artifacts_bucket,
            repository=storage.repository,
            key=storage.key,
        ).role
        topic = NotificationTopic(self, "Notifications", key=storage.key, email=config.notification_email).topic
        endpoint_alarms = EndpointAlarms(
            self, "EndpointAlarms", endpoint_name=endpoint_name, limits=config.endpoint.deployment, topic=topic
        )
        endpoint_alarms.grant_read_rollback_alarms(sagemaker_role)
        functions = PipelineFunctions(
            self,
            "Functions",
            environment_name=config.environment,
            powertools_layer_version=config.powertools_layer_version,
            log_retention_days=config.log_retention_days,
            run_defaults=run_defaults(config),
            scoring_defaults=scoring_defaults(config) if config.batch_transform.enabled else None,
            pipeline_name=self.stack_name,
            data_bucket=storage.data_bucket,
            artifacts_bucket=storage.artifacts_bucket,
            key=storage.key,
            topic=topic,
            endpoint_name=endpoint_name,
            model_package_group=storage.model_registry.group_name,
        )
        deployment = DeploymentSettings(
            role_arn=sagemaker_role.role_arn,
            key_arn=storage.key.key_arn,
            model_package_group_name=storage.model_registry.group_name,
            artifacts_bucket_name=storage.artifacts_bucket.bucket_name,
            data_capture_percent=config.endpoint.data_capture_percent,
            endpoint_instance_types=list(config.allowed_instance_types.endpoint),
            endpoint_name=endpoint_name,
            traffic_shift=config.endpoint.deployment,
            rollback_alarm_names=endpoint_alarms.rollback_alarm_names,
            autoscaling=config.endpoint.autoscaling,
            serverless=config.endpoint.serverless,
        )
        workflow = PipelineWorkflow(
            self,
            "Workflow",
            timeouts=config.task_timeouts,
            approval_status=config.pipeline.model_approval_status,
            execution_timeout=Duration.minutes(config.pipeline.execution_timeout_minutes),
            log_retention_days=config.log_retention_days,
            resources=WorkflowResources(
                prepare_run=functions.prepare_run,
                failure_handler=functions.failure_handler,
                artifacts_bucket=storage.artifacts_bucket,
                key=storage.key,
                job_settings=JobSettings(
                    image_uri=image.image_uri,
                    role_arn=sagemaker_role.role_arn,
                    key_arn=storage.key.key_arn,
                    metric_definitions=METRIC_DEFINITIONS,
                    processing_max_runtime_seconds=config.processing.max_runtime_seconds,
                    warm_pool_seconds=config.training.warm_pool_seconds,
                    training_environment=config.training.job_environment,
                ),
                deployment=deployment,
            ),
        )
        self.state_machine = workflow.state_machine
        self.state_machine.node.add_dependency(image.publish)  # no run before its image is in the repository
        rollback_alarms = endpoint_alarms.rollback_alarm_arns
        grant_workflow_calls(
            self.state_machine,
            sagemaker_role=sagemaker_role,
            key=storage.key,
            endpoint_name=endpoint_name,
            rollback_alarm_arns=rollback_alarms,
            model_package_group=storage.model_registry.group_name,
            artifacts_bucket=storage.artifacts_bucket,
        )
        # The state machines by the prefix of their backstop alarms' ids: the training workflow's alarms came
        # first and have none, so their logical ids (and the alarms people know) stay as they were.
        machines = {"": self.state_machine}
        if config.pipeline.model_approval_status == "PendingManualApproval":
            approval = ApprovalWorkflow(
                self,
                "Approval",
                settings=deployment,
                endpoint=config.endpoint,
                log_retention_days=config.log_retention_days,
                failure_handler=functions.failure_handler,
                key=storage.key,
                dead_letters=functions.dead_letters,
            )
            grant_workflow_calls(
                approval.state_machine,
                sagemaker_role=sagemaker_role,
                key=storage.key,
                endpoint_name=endpoint_name,
                rollback_alarm_arns=rollback_alarms,
                model_package_group=storage.model_registry.group_name,
                artifacts_bucket=storage.artifacts_bucket,
                runs_jobs=False,
            )
            machines["Approval"] = approval.state_machine
            CfnOutput(
                self,
                contract.APPROVAL_OUTPUT,
                value=approval.state_machine.state_machine_arn,
                description="Started by the registry's approval event; deploys the approved model",
            )
        if functions.prepare_scoring is not None:
            scoring = ScoringWorkflow(
                self,
                "Scoring",
                batch=config.batch_transform,
                log_retention_days=config.log_retention_days,
                resources=ScoringResources(
                    prepare_scoring=functions.prepare_scoring,
                    failure_handler=functions.failure_handler,
                    key=storage.key,
                    role_arn=sagemaker_role.role_arn,
                    model_package_group_name=storage.model_registry.group_name,
                ),
            )
            grant_scoring_calls(
                scoring.state_machine,
                sagemaker_role=sagemaker_role,
                key=storage.key,
                model_package_group=storage.model_registry.group_name,
            )
            machines["Scoring"] = scoring.state_machine
            CfnOutput(
                self,
                "ScoringStateMachineArn",
                value=scoring.state_machine.state_machine_arn,
                description='Score a dataset offline: start-execution --input \'{"data": "s3://DATA-BUCKET/PREFIX/"}\'',
            )
        monitoring = None
        if config.monitoring.enabled:
            monitoring = ModelMonitoring(
                self,
                "Monitoring",
                settings=MonitoringSettings(
                    monitoring=config.monitoring,
                    processing=config.processing,
                    environment=config.environment,
                    log_retention_days=config.log_retention_days,
                    powertools_layer_version=config.powertools_layer_version,
                ),
                inputs=MonitoringInputs(
                    endpoint_name=endpoint_name,
                    pipeline=self.state_machine,
                    failure_handler=functions.failure_handler,
                    sagemaker_role=sagemaker_role,
                    image_uri=image.image_uri,
                    data_bucket=storage.data_bucket,
                    artifacts_bucket=storage.artifacts_bucket,
                    key=storage.key,
                    topic=topic,
                    dead_letters=functions.dead_letters,
                ),
            )
            machines["Monitoring"] = monitoring.state_machine
        self.state_machines = list(machines.values())  # training first; people may start any of them
        functions.grant_failure_handling(state_machines=self.state_machines, endpoint_name=endpoint_name)
        FailureBackstop(
            self,
            "FailureBackstop",
            state_machines=machines,
            failure_handler=functions.failure_handler,
            dead_letters=functions.dead_letters,
            topic=topic,
        )
        RunTriggers(
            self,
            "Triggers",
            triggers=config.triggers,
            state_machine=self.state_machine,
            data_bucket=storage.data_bucket,
            dead_letters=functions.dead_letters,
        )
        titles = {"": "Pipeline", "Approval": "Approval", "Scoring": "Batch scoring", "Monitoring": "Monitoring"}
        dashboard = PipelineDashboard(
            self,
            "Dashboard",
            state_machines={titles[key]: machine for key, machine in machines.items()},
            functions=[functions.prepare_run, functions.failure_handler],
            endpoint_name=endpoint_name,
        )
        if monitoring is not None:
            monitoring.add_to_dashboard(dashboard.node.find_child("Dashboard"))
        self.endpoint_name = endpoint_name
        CfnOutput(
            self,
            "StateMachineArn",
            value=self.state_machine.state_machine_arn,
            description="Start a run: aws stepfunctions start-execution --state-machine-arn <this>",
        )
        CfnOutput(self, "EndpointName", value=endpoint_name, description="The real-time endpoint runs deploy to")
        CfnOutput(self, "NotificationTopicArn", value=topic.topic_arn, description="Failure notifications")
        if monitoring is not None:
            acknowledge_monitoring_findings(self, storage_stack_name=storage.stack_name)
        # Each construct acknowledges its own findings; these concern every role and function of the stack.
        acknowledge(
            self,
            ("NIST.800.53.R5-IAMNoInlinePolicy", CDK_INLINE),
            ("NIST.800.53.R5-LambdaInsideVPC", NO_VPC),
            ("NIST.800.53.R5-LambdaConcurrency", NO_RESERVED_CONCURRENCY),
        )
