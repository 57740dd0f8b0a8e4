"""Extensions of moto's Step Functions interpreter (a port of LocalStack's), through its seams.

* `state_task_service_for`, as imported by the task state factory, is wrapped so that
  service `sagemaker` gets `StateTaskServiceSageMaker` (request-response and `.sync`),
  and `aws-sdk` gets a subclass that names errors as Step Functions does for
  SageMaker and S3 (`SageMaker.ResourceNotFoundException`, `S3.NoSuchKeyException`).
* The context object gets `Execution.RedriveCount`, as on AWS.
* A Fail state may re-raise a caught `States.*` error through ErrorPath, as on AWS.
* The interpreter sleeps for real in Wait states and between retries; `time_scale`
  compresses both, so a definition that polls an endpoint every 30 s stays fast locally.

Both integrations call the service through an ordinary boto3 client, which the hooks
route to the local SageMaker: one implementation serves the state machine and the
Lambdas' own clients.
"""

from __future__ import annotations

import functools
import time as _time
import warnings
from collections.abc import Callable
from typing import Any, Final

import boto3
import moto
from botocore.exceptions import ClientError, ParamValidationError
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task, state_task_factory
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
    ResourceRuntimePart,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
    StateTaskServiceAwsSdk,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.fail import state_fail
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.utils import camel_to_snake_case

from . import hooks, parse_cache, task_clients
from .permissions import Principal, acting_as, current
from .permissions.requests import sync_rule_requests
from .validation import operation_model, to_json_safe

# The optimized SageMaker integrations Step Functions offers (request-response, and .sync for jobs).
SAGEMAKER_ACTIONS: Final[dict[str, str | None]] = {
    "createEndpoint": None,
    "createEndpointConfig": None,
    "createModel": None,
    "updateEndpoint": None,
    "createProcessingJob": "DescribeProcessingJob",
    "createTrainingJob": "DescribeTrainingJob",
    "createHyperParameterTuningJob": "DescribeHyperParameterTuningJob",
    "createTransformJob": "DescribeTransformJob",
}
_JOB_NAME_KEY = {
    "DescribeProcessingJob": ("ProcessingJobName", "ProcessingJobStatus"),
    "DescribeTrainingJob": ("TrainingJobName", "TrainingJobStatus"),
    "DescribeHyperParameterTuningJob": ("HyperParameterTuningJobName", "HyperParameterTuningJobStatus"),
    "DescribeTransformJob": ("TransformJobName", "TransformJobStatus"),
}
# Modeled SageMaker exceptions keep their name; anything else is AmazonSageMakerException,
# as the Java SDK behind the optimized integrations names them.
_MODELED = {"ResourceInUse", "ResourceLimitExceeded", "ResourceNotFound", "ConflictException"}
_POLL_SECONDS = 0.1


def _validation_client_error(error: ParamValidationError) -> ClientError:
    """A request of the wrong shape, as the service answers it: ValidationException."""
    response = {
        "Error": {"Code": "ValidationException", "Message": str(error)},
        "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": ""},
    }
    return ClientError(response, "Request")


class StateTaskServiceSageMaker(StateTaskServiceCallback):
    def __init__(self) -> None:
        super().__init__(supported_integration_patterns={ResourceCondition.Sync, ResourceCondition.WaitForTaskToken})

    def _get_supported_parameters(self) -> set[str] | None:
        action = self.resource.api_action
        if action not in SAGEMAKER_ACTIONS:
            return None
        shape = operation_model("sagemaker", action[0].upper() + action[1:]).input_shape
        return set(shape.members)

    def _validate_service_integration_is_supported(self) -> None:
        super()._validate_service_integration_is_supported()
        if self.resource.condition == ResourceCondition.Sync and not SAGEMAKER_ACTIONS[self.resource.api_action]:
            raise ValueError(f"{self.resource.resource_arn}: .sync is not supported for {self.resource.api_action}")

    def _client(self, runtime: ResourceRuntimePart):
        return task_clients.boto_client_for(region=runtime.region, service="sagemaker")

    def _from_error(self, env: Environment, ex: Exception) -> FailureEvent:
        if isinstance(ex, ParamValidationError):
            ex = _validation_client_error(ex)
        if isinstance(ex, ClientError):
            code = ex.response["Error"]["Code"]
            error = (
                f"SageMaker.{code if code.endswith('Exception') else code + 'Exception'}"
                if code in _MODELED
                else "SageMaker.AmazonSageMakerException"
            )
            meta = ex.response.get("ResponseMetadata", {})
            cause = (
                f"{ex.response['Error'].get('Message', '')} (Service: AmazonSageMaker; "
                f"Status Code: {meta.get('HTTPStatusCode', 400)}; Error Code: {code}; "
                f"Request ID: {meta.get('RequestId', '')}; Proxy: null)"
            )
            return FailureEvent(
                env=env,
                error_name=CustomErrorName(error),
                event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(
                    taskFailedEventDetails=TaskFailedEventDetails(
                        error=error,
                        cause=cause,
                        resource=self._get_sfn_resource(),
                        resourceType=self._get_sfn_resource_type(),
                    )
                ),
            )
        return super()._from_error(env=env, ex=ex)

    def _eval_service_task(
        self,
        env: Environment,
        resource_runtime_part: ResourceRuntimePart,
        normalised_parameters: dict,
        state_credentials: Any,
    ) -> None:
        method = camel_to_snake_case(self.resource.api_action)
        response = getattr(self._client(resource_runtime_part), method)(**normalised_parameters)
        response.pop("ResponseMetadata", None)
        env.stack.append(to_json_safe(response))

    def _build_sync_resolver(
        self,
        env: Environment,
        resource_runtime_part: ResourceRuntimePart,
        normalised_parameters: dict,
        state_credentials: Any,
    ) -> Callable[[], Any] | None:
        env.stack.pop()  # the Create* response
        describe = SAGEMAKER_ACTIONS[self.resource.api_action]
        router = hooks.active()
        if router is not None and router.authorizer is not None and current() is not None:
            # Step Functions puts the managed rule that reports the job's end, as the state machine's role.
            router.authorizer.check("events", current(), sync_rule_requests(router.authorizer.store, describe))
        name_key, status_key = _JOB_NAME_KEY[describe]
        name = normalised_parameters[name_key]
        client = self._client(resource_runtime_part)
        method = getattr(client, camel_to_snake_case(describe))
        waiter = _job_waiter()

        def resolve() -> Any | None:
            while True:
                response = method(**{name_key: name})
                response.pop("ResponseMetadata", None)
                if response[status_key] not in ("InProgress", "Stopping"):
                    break
                if waiter is None or not env.is_running():
                    return None  # moto's loop looks again after its sleep, or ends with the execution
                # until the job's next change: moto sleeps 0.5 s each time this returns None, so the workflow
                # would see the job's end up to that much later (a run has several `.sync` jobs)
                waiter(name, _POLL_SECONDS * 5)
            status = response[status_key]
            response = to_json_safe(response)
            if status == "Completed":
                return response
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=EventDetails(
                        taskFailedEventDetails=TaskFailedEventDetails(
                            resource=self._get_sfn_resource(),
                            resourceType=self._get_sfn_resource_type(),
                            error=StatesErrorNameType.StatesTaskFailed.to_name(),
                            cause=to_json_str(response),
                        )
                    ),
                )
            )

        return resolve


class StateTaskServiceAwsSdkLocal(StateTaskServiceAwsSdk):
    """aws-sdk integrations: errors named `Service.ErrorCode` (with the `Exception` suffix), as the
    Step Functions guide describes (`SageMaker.ResourceNotFoundException`, `S3.NoSuchKeyException`,
    `SageMaker.ThrottlingException`); timestamps as strings in state output."""

    def _get_boto_service_name(self, boto_service_name: str | None = None) -> str:
        name = boto_service_name or self.resource.api_name
        return _boto_service_names().get(name, super()._get_boto_service_name(boto_service_name))

    def _normalise_parameters(self, parameters: dict, boto_service_name=None, service_action_name=None) -> None:
        """Step Functions takes every SDK integration's parameters in PascalCase and sends them under the API's
        own member names; moto's port leaves them as written, so a camelCase API (Step Functions' own:
        stateMachineArn, name, input) failed. Top-level members, matched without regard to case."""
        action = service_action_name or self.resource.api_action
        shape = operation_model(self._get_boto_service_name(boto_service_name), action[0].upper() + action[1:])
        members = {name.lower(): name for name in shape.input_shape.members}
        for key in list(parameters):
            name = members.get(key.lower())
            if name is not None and name != key:
                parameters[name] = parameters.pop(key)
        super()._normalise_parameters(parameters, boto_service_name, service_action_name)

    def _from_error(self, env: Environment, ex: Exception) -> FailureEvent:
        if isinstance(ex, ParamValidationError):
            ex = _validation_client_error(ex)
        if not isinstance(ex, ClientError):
            return super()._from_error(env=env, ex=ex)
        service = self._normalise_service_error_name(self.resource.api_name)
        code = ex.response["Error"]["Code"]
        error = f"{service}.{code if code.endswith('Exception') else code + 'Exception'}"
        meta = ex.response.get("ResponseMetadata", {})
        cause = (
            f"{ex.response['Error'].get('Message', '')} (Service: {service}, "
            f"Status Code: {meta.get('HTTPStatusCode', 400)}, Request ID: {meta.get('RequestId', '')})"
        )
        return self._get_task_failure_event(env=env, error=error, cause=cause)

    def _normalise_response(self, response: Any, boto_service_name=None, service_action_name=None) -> None:
        if isinstance(response, dict):
            safe = to_json_safe(response)
            response.clear()
            # And answered in PascalCase (ExecutionArn, not botocore's executionArn), top-level members.
            response.update({key[:1].upper() + key[1:]: value for key, value in safe.items()})


@functools.cache
def _boto_service_names() -> dict[str, str]:
    """aws-sdk service names (the SDK's, without hyphens: `applicationautoscaling`) -> botocore's names."""
    names = {n.replace("-", ""): n for n in boto3.session.Session().get_available_services()}
    names.update({"sfn": "stepfunctions", "cloudwatchlogs": "logs", "eventbridge": "events"})
    return names


# Step Functions spells service names in PascalCase in aws-sdk error names.
state_task_service_aws_sdk._SERVICE_ERROR_NAMES.update(
    {
        "sagemaker": "SageMaker",
        "s3": "S3",
        "sns": "Sns",
        "sqs": "Sqs",
        "lambda": "Lambda",
        "applicationautoscaling": "ApplicationAutoScaling",
        "cloudwatch": "CloudWatch",
    }
)

_original_factory = state_task_factory.state_task_service_for
_job_waiter_fn: Callable[[str, float], None] | None = None


def _job_waiter() -> Callable[[str, float], None] | None:
    return _job_waiter_fn


def set_job_waiter(fn: Callable[[str, float], None] | None) -> None:
    """A function (job name, timeout) that returns early when the job changes state."""
    global _job_waiter_fn
    _job_waiter_fn = fn


def _service_for(service_name: str):
    if service_name == "sagemaker":
        return StateTaskServiceSageMaker()
    if service_name == "aws-sdk":
        return StateTaskServiceAwsSdkLocal()
    return _original_factory(service_name=service_name)


class _ScaledTime:
    """`time` for the retrier: sleeps shortened by the time scale."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        _time.sleep(max(0.0, seconds) * _scale_value)


_scale_value = 1.0


def _scaled_wait_interval(self, env: Environment, wait_seconds: int) -> None:
    seconds = wait_seconds * _scale_value
    if seconds > 0:
        env.program_state_event.wait(seconds)


def set_time_scale(scale: float) -> None:
    """Scale Wait states and Retry intervals (1.0 = real time)."""
    global _scale_value
    _scale_value = scale


class _RethrownErrorName(ErrorName):
    """An error name a Fail state takes from its input (ErrorPath), e.g. a caught `States.TaskFailed`."""


def _fail_error_name(error_name: str | None) -> ErrorName:
    # AWS lets a Fail state re-raise a caught error through ErrorPath, "States." prefix included;
    # the interpreter's CustomErrorName rejects that prefix, which is right only for literal names.
    if error_name is not None and error_name.startswith("States."):
        return _RethrownErrorName(error_name)
    return CustomErrorName(error_name)


_original_environment = ExecutionWorker._get_evaluation_environment


def _environment_with_redrive_count(self) -> Environment:
    env = _original_environment(self)
    # AWS's context object carries Execution.RedriveCount (0 until the execution is redriven).
    env.states.context_object.context_object_data["Execution"].setdefault("RedriveCount", 0)
    return env


def _as_execution_role(original: Callable[[Any, Environment], None]) -> Callable[[Any, Environment], None]:
    """A Task calls its service as the state machine's role (the context object's Execution.RoleArn)."""

    @functools.wraps(original)
    def evaluate(self, env: Environment) -> None:
        execution = env.states.context_object.context_object_data["Execution"]
        role = execution.get("RoleArn")
        with acting_as(Principal(role, session=execution.get("Name", "local")[:64]) if role else None):
            original(self, env)

    return evaluate


_installed = False
# The seams above are those of this version (pinned in requirements-dev.txt); check them on an upgrade.
MOTO_VERSION = "5.2.5"


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    if moto.__version__ != MOTO_VERSION:
        warnings.warn(
            f"local_runner extends moto {MOTO_VERSION}'s Step Functions interpreter; found {moto.__version__}",
            RuntimeWarning,
            stacklevel=2,
        )
    state_task_factory.state_task_service_for = _service_for
    retrier_decl.time = _ScaledTime()
    WaitFunction._wait_interval = _scaled_wait_interval
    state_fail.CustomErrorName = _fail_error_name
    ExecutionWorker._get_evaluation_environment = _environment_with_redrive_count
    parse_cache.install()
    task_clients.install()
    for task_class in _task_classes():
        task_class._eval_execution = _as_execution_role(task_class._eval_execution)


def _task_classes() -> list[type]:
    """StateTask and every subclass that overrides _eval_execution (service tasks, Lambda ARNs)."""
    found, pending = [], [state_task.StateTask]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if "_eval_execution" in vars(cls):
            found.append(cls)
    return found
