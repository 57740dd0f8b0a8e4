"""The state machine: raw data in S3 to an evaluated, registered model behind a real-time endpoint.

Read top to bottom: PrepareRun -> Process -> Train or Tune -> Evaluate -> ReadEvaluation ->
QualityGate -> RegisterModel -> deploy (create or update the endpoint, wait for InService) -> Succeeded.
Every task retries transient and capacity errors and routes anything else to the failure handler.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.components.workflow import sagemaker_jobs as jobs
from stacks.components.workflow.deployment import Deployment, DeploymentSettings
from stacks.components.workflow.failure_path import FailurePath
from stacks.components.workflow.observed_state_machine import observed_state_machine
from stacks.components.workflow.planning_step import planning_step
from stacks.config.timeouts import TaskTimeouts
from stacks.support.documents import EVALUATION, RUN


@dataclass(frozen=True)
class WorkflowResources:
    prepare_run: lambda_.IFunction
    failure_handler: lambda_.IFunction
    artifacts_bucket: s3.IBucket
    key: kms.IKey
    job_settings: jobs.JobSettings
    deployment: DeploymentSettings


class PipelineWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resources: WorkflowResources,
        timeouts: TaskTimeouts,
        approval_status: str,
        execution_timeout: Duration,
        log_retention_days: int,
    ) -> None:
        """`timeouts`: each task's, derived from the job limits; `approval_status`: the registered model's
        (PendingManualApproval leaves the deployment to the approval workflow)."""
        super().__init__(scope, construct_id)
        job_settings = resources.job_settings
        failures = FailurePath(self, "Failure", failure_handler=resources.failure_handler)

        prepare = planning_step(
            self,
            "PrepareRun",
            function=resources.prepare_run,
            plan_key="run",
            comment="Validate the input, fill in this environment's defaults, derive job names and S3 paths",
            failures=failures,
        )

        processing_timeout = timeouts.processing
        process = self._job(
            "Process",
            jobs.processing_request(job_settings),
            api="createProcessingJob",
            comment="Split into train/validation/test, impute, write baseline statistics",
            result_selector={"name.$": "$.ProcessingJobName"},
            result_path="$.results.processing",
            timeout=processing_timeout,
        )
        failures.catch(process, step="Process", job_type="processing", job_name_path=RUN("jobs.process"))

        train = self._job(
            "Train",
            jobs.training_request(job_settings),
            api="createTrainingJob",
            comment="One training job with the run's hyperparameters",
            result_selector={
                "training_job.$": "$.TrainingJobName",
                "artifact.$": "$.ModelArtifacts.S3ModelArtifacts",
                "image": job_settings.image_uri,
            },
            result_path="$.results.model",
            timeout=timeouts.training,
        )
        failures.catch(train, step="Train", job_type="training", job_name_path=RUN("jobs.train"))

        tune = self._job(
            "Tune",
            jobs.tuning_request(job_settings),
            api="createHyperParameterTuningJob",
            comment="Hyperparameter tuning; the best training job's model goes on",
            result_selector={
                "tuning_job.$": "$.HyperParameterTuningJobName",
                "training_job.$": "$.BestTrainingJob.TrainingJobName",
                "objective.$": "$.BestTrainingJob.FinalHyperParameterTuningJobObjectiveMetric",
                "hyperparameters.$": "$.BestTrainingJob.TunedHyperParameters",
            },
            result_path="$.results.tuning",
            timeout=timeouts.tuning,
        )
        failures.catch(tune, step="Tune", job_type="tuning", job_name_path=RUN("jobs.tune"))
        # The tuning result names the best job, not its artifact: SageMaker writes it under the output path.
        best_model = sfn.Pass(
            self,
            "UseBestTrainingJob",
            state_name="UseBestTrainingJob",
            parameters={
                "training_job.$": "$.results.tuning.training_job",
                "artifact.$": "States.Format('{}/{}/output/model.tar.gz', "
                f"{RUN('s3.models')}, $.results.tuning.training_job)",
                "image": job_settings.image_uri,
            },
            result_path="$.results.model",
        )

        evaluate = self._job(
            "Evaluate",
            jobs.evaluation_request(job_settings),
            api="createProcessingJob",
            comment="Score the model on the held-out test split; writes evaluation.json",
            result_selector={"name.$": "$.ProcessingJobName"},
            result_path="$.results.evaluation",
            timeout=processing_timeout,
        )
        failures.catch(evaluate, step="Evaluate", job_type="processing", job_name_path=RUN("jobs.evaluate"))

        read_evaluation = tasks.CallAwsService(
            self,
            "ReadEvaluation",
            state_name="ReadEvaluation",
            comment="Load evaluation.json into the state",
            service="s3",
            action="getObject",
            iam_action="s3:GetObject",
            iam_resources=[resources.artifacts_bucket.arn_for_objects("runs/*")],
            parameters={"Bucket": resources.artifacts_bucket.bucket_name, "Key.$": RUN("s3.evaluation_key")},
            result_selector={"report.$": "States.StringToJson($.Body)"},
            result_path="$.evaluation",
        )
        failures.catch(read_evaluation, step="ReadEvaluation", job_type="none", job_name_path=None)

        succeeded = sfn.Pass(self, "Summarize", state_name="Summarize", parameters=self._summary("DEPLOYED")).next(
            sfn.Succeed(self, "Succeeded", state_name="Succeeded", comment="Model evaluated, registered and serving")
        )
        registered_only = sfn.Pass(
            self, "SummarizeRegistered", state_name="SummarizeRegistered", parameters=self._summary("REGISTERED")
        ).next(
            sfn.Succeed(
                self,
                "Registered",
                state_name="RegisteredNotDeployed",
                comment="Registered; deployment skipped by the input or waiting for approval",
            )
        )
        deployment = Deployment(
            self,
            "Deployment",
            settings=resources.deployment,
            failures=failures,
            approval_status=approval_status,
            done=succeeded,
        )
        after_register = (
            sfn.Choice(self, "DeployChoice", state_name="Deploy?")
            .when(sfn.Condition.boolean_equals(RUN("deploy"), True), deployment.deploy)
            .otherwise(registered_only)
            if deployment.deploy is not None
            else registered_only
        )

        rejected = sfn.Pass(
            self,
            "DescribeRejection",
            state_name="DescribeRejection",
            parameters={
                "status": "REJECTED_BY_QUALITY_GATE",
                "metric.$": RUN("objective.metric"),
                "value.$": EVALUATION("objective.value"),
                "threshold.$": RUN("objective.threshold"),
                "goal.$": RUN("objective.goal"),
                "metrics.$": EVALUATION("metrics"),
                "model_artifact.$": "$.results.model.artifact",
                "run_id.$": RUN("id"),
            },
        ).next(
            sfn.Succeed(
                self,
                "QualityGateNotMet",
                state_name="QualityGateNotMet",
                comment="The model missed the business threshold: nothing registered or deployed. "
                "Not an infrastructure failure.",
            )
        )
        value, threshold = EVALUATION("objective.value"), RUN("objective.threshold")
        gate = (
            sfn.Choice(
                self,
                "QualityGate",
                state_name="QualityGate",
                comment="The objective metric against the threshold, in the metric's own direction",
            )
            .when(
                sfn.Condition.and_(
                    sfn.Condition.string_equals(RUN("objective.goal"), "Maximize"),
                    sfn.Condition.number_greater_than_equals_json_path(value, threshold),
                ),
                deployment.register,
            )
            .when(
                sfn.Condition.and_(
                    sfn.Condition.string_equals(RUN("objective.goal"), "Minimize"),
                    sfn.Condition.number_less_than_equals_json_path(value, threshold),
                ),
                deployment.register,
            )
            .otherwise(rejected)
        )
        deployment.register.next(after_register)

        evaluation_chain = evaluate.next(read_evaluation).next(gate)
        self.definition = prepare.next(process).next(
            sfn.Choice(self, "TuningChoice", state_name="Tune?")
            .when(sfn.Condition.boolean_equals(RUN("tuning.enabled"), True), tune.next(best_model).next(evaluate))
            .otherwise(train.next(evaluation_chain))
        )

        self.state_machine = observed_state_machine(
            self,
            definition=self.definition,
            key=resources.key,
            log_retention_days=log_retention_days,
            timeout=execution_timeout,
            comment="SageMaker pipeline: process, train or tune, evaluate, gate, register, deploy",
        )

    def _job(
        self,
        state_id: str,
        request: dict,
        *,
        api: str,
        comment: str,
        result_selector: dict[str, str],
        result_path: str,
        timeout: int,
    ) -> sfn.CustomState:
        return sfn.CustomState(
            self,
            state_id,
            state_json=jobs.job_state(
                request,
                api=api,
                result_selector=result_selector,
                result_path=result_path,
                timeout_seconds=timeout,
                comment=comment,
            ),
        )

    @staticmethod
    def _summary(status: str) -> dict:
        summary = {
            "status": status,
            "run_id.$": RUN("id"),
            "model_package_arn.$": "$.results.model_package.arn",
            "model_artifact.$": "$.results.model.artifact",
            "objective.$": EVALUATION("objective"),
            "threshold.$": RUN("objective.threshold"),
            "metrics.$": EVALUATION("metrics"),
            "jobs.$": RUN("jobs"),
        }
        if status == "DEPLOYED":
            summary["endpoint_name.$"] = RUN("endpoint_name")
        return summary
