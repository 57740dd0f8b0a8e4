"""The local cloud: moto (Step Functions, S3, SNS, SQS) plus the local SageMaker and Lambda, in one process."""

from __future__ import annotations

import io
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.response import StreamingBody
from moto import mock_aws

from . import hooks, interpreter, s3
from .events import LocalEventBus, Rule, Target
from .faults import Faults
from .lambdas import Function, LocalLambda
from .permissions import Authorizer, PolicyStore
from .sagemaker import LocalSageMaker, Store
from .template import ACCOUNT, REGION, Assembly, TemplateError
from .validation import ServiceError, operation_model, shape_response, validate_request

REPO_ROOT = Path(__file__).resolve().parent.parent
TERMINAL_EXECUTION = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass
class StateRun:
    name: str
    entered: float
    exited: float | None = None
    status: str = "running"
    attempts: int = 0
    error: str | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.exited is None else self.exited - self.entered


@dataclass
class ExecutionResult:
    arn: str
    status: str
    input: dict[str, Any]
    output: Any = None
    error: str | None = None
    cause: str | None = None
    seconds: float = 0.0
    states: list[StateRun] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def state(self, name: str) -> StateRun | None:
        runs = [s for s in self.states if s.name == name]
        return runs[-1] if runs else None

    @property
    def visited(self) -> list[str]:
        return [s.name for s in self.states]


def state_runs(events: list[dict[str, Any]]) -> list[StateRun]:
    """Per-state rows (entered/exited, retries, failure) from an execution history."""
    runs: list[StateRun] = []
    open_runs: dict[str, StateRun] = {}
    for event in events:
        kind = event["type"]
        stamp = (
            event["timestamp"].timestamp() if hasattr(event["timestamp"], "timestamp") else float(event["timestamp"])
        )
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            run = StateRun(name, stamp)
            runs.append(run)
            open_runs[name] = run
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            run = open_runs.pop(name, None)
            if run is not None:
                run.exited = stamp
                if run.status == "running":
                    run.status = "succeeded"
        elif kind in ("TaskScheduled", "LambdaFunctionScheduled"):
            for run in open_runs.values():
                if run.status == "running" or run.status == "retrying":
                    pass
            last = runs[-1] if runs else None
            if last is not None and last.exited is None:
                last.attempts += 1
                last.status = "running"
        elif kind in ("TaskFailed", "LambdaFunctionFailed", "TaskTimedOut", "ExecutionFailed"):
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            for run in reversed(runs):
                if run.exited is None:
                    run.error = details.get("error")
                    run.status = "failed"
                    break
    for run in open_runs.values():
        if (
            run.status == "running"
            and events
            and events[-1]["type"] in ("ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut")
        ):
            run.status = "failed"
            run.exited = events[-1]["timestamp"].timestamp()
    return runs


class LocalCloud:
    """Start with `with LocalCloud(state_dir) as cloud:`; everything is persisted under state_dir."""

    def __init__(
        self,
        state_dir: Path | str,
        code_dir: Path | str = REPO_ROOT,
        faults: Faults | None = None,
        time_scale: float = 0.05,
        persist: bool = True,
        seed: int = 0,
        lambda_log: Path | str | None = None,
        restart_endpoints: bool = True,
        enforce_permissions: bool = True,
    ):
        self.state_dir = Path(state_dir).resolve()
        self.code_dir = Path(code_dir).resolve()
        self.faults = faults or Faults()
        self.time_scale = time_scale
        self.persist = persist
        self.seed = seed
        self.restart_endpoints = restart_endpoints
        self.enforce_permissions = enforce_permissions
        self.authorizer: Authorizer | None = None  # from the deployed assemblies' policies
        self._deployed: dict[tuple[str, ...], Assembly] = {}
        self.region = REGION
        self.account = ACCOUNT
        self._mock = None
        self.sagemaker: LocalSageMaker | None = None
        self._lambda_log = open(lambda_log, "a") if lambda_log else None  # noqa: SIM115 - closed in stop()
        self.lambdas = LocalLambda(REGION, self._lambda_log)
        self.router = hooks.Router()
        self.state_machines: dict[str, str] = {}
        self.assembly: Assembly | None = None
        self.events = LocalEventBus(self.start_execution)

    # -- lifecycle ------------------------------------------------------------
    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        hooks.install()
        interpreter.install()
        interpreter.set_time_scale(self.time_scale)
        os.environ.setdefault("AWS_DEFAULT_REGION", self.region)
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        s3.load(self.state_dir / "s3")
        store = Store(self.state_dir / "sagemaker" / "state.json" if self.persist else None)
        self.sagemaker = LocalSageMaker(
            self.state_dir / "sagemaker",
            self.code_dir,
            store,
            self.faults,
            seed=self.seed,
            time_scale=self.time_scale,
        )
        self.sagemaker.listeners.append(self._model_package_event)
        self.router.register("sagemaker", self.sagemaker.handle)
        self.router.register("sagemaker-runtime", self._runtime)
        self.router.register("lambda", self._lambda)
        self.router.checks.append(self.faults.check)
        hooks.activate(self.router)
        interpreter.set_job_waiter(self.sagemaker.wait_for_change)
        if self.restart_endpoints:
            self.sagemaker.restart_endpoints()

    def stop(self) -> None:
        try:
            if self.sagemaker is not None:
                for process in self.sagemaker.processes.values():  # jobs an interrupted run left running
                    process.stop()
                self.sagemaker.join(timeout=30)
            self.save()
        finally:
            hooks.deactivate(self.router)
            interpreter.set_job_waiter(None)
            if self._mock is not None:
                self._mock.stop()
                self._mock = None
            if self._lambda_log is not None:
                self._lambda_log.flush()

    def save(self) -> None:
        if not self.persist or self._mock is None:
            return
        s3.save(self.state_dir / "s3")
        self.sagemaker.store.save()

    def client(self, service: str):
        return boto3.client(service, region_name=self.region)

    # -- services not in moto -------------------------------------------------
    def _lambda(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation != "Invoke":
            raise ServiceError("NotImplementedException", f"The local Lambda does not implement {operation}", 501)
        return self.lambdas.invoke(params)

    def _runtime(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation != "InvokeEndpoint":
            raise ServiceError(
                "NotImplementedException", f"The local SageMaker runtime does not implement {operation}", 501
            )
        validate_request("sagemaker-runtime", operation, params)
        response = shape_response("sagemaker-runtime", operation, self.sagemaker.invoke_endpoint(params))
        body = response["Body"]
        response["Body"] = StreamingBody(io.BytesIO(body), len(body))  # as botocore returns a streaming payload
        return response

    # -- deployment of templates -------------------------------------------------
    def deploy(self, assembly: Assembly) -> dict[str, str]:
        """Create what the state machines touch: buckets, topics, queues, model package groups,
        Lambda functions and the state machines themselves (with their definitions resolved)."""
        self.assembly = assembly
        assembly.region, assembly.account = self.region, self.account
        # Stacks deployed earlier into this cloud keep their policies; a stack deployed again replaces its own.
        self._deployed[tuple(sorted(assembly.stacks))] = assembly
        store = PolicyStore.from_assemblies(list(self._deployed.values()))
        if self.authorizer is None:
            self.authorizer = Authorizer(store, enabled=self.enforce_permissions)
        else:
            self.authorizer.use(store)
        self.router.authorizer = self.authorizer
        self.events.authorizer = self.authorizer
        for stack in assembly.stacks.values():
            resolver = assembly.resolver(stack)
            for logical_id in stack.of_type("AWS::S3::Bucket"):
                s3.ensure_bucket(resolver.ref(logical_id))
            for logical_id in stack.of_type("AWS::SNS::Topic"):
                self.client("sns").create_topic(Name=assembly.physical_name(stack, logical_id))
            for logical_id in stack.of_type("AWS::SQS::Queue"):
                name = assembly.physical_name(stack, logical_id)
                attributes = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
                self.client("sqs").create_queue(QueueName=name, Attributes=attributes)
            for logical_id, resource in stack.of_type("AWS::SageMaker::ModelPackageGroup").items():
                props = resource.get("Properties", {})
                self.sagemaker.ensure_model_package_group(
                    resolver.ref(logical_id).rsplit("/", 1)[-1]
                    if "ModelPackageGroupName" not in props
                    else resolver.resolve(props["ModelPackageGroupName"]),
                    resolver.resolve(props.get("ModelPackageGroupDescription", "")),
                )
            for logical_id, resource in stack.of_type("AWS::Lambda::Function").items():
                self.lambdas.add(self._function(assembly, stack, logical_id, resource))
            for logical_id, resource in stack.of_type("AWS::CloudWatch::Alarm").items():
                self._alarm(resolver, logical_id, resource)
        for stack, logical_id, resource in assembly.state_machines():
            resolver = assembly.resolver(stack)
            props = resource["Properties"]
            definition = self._definition(resolver, props)
            name = assembly.physical_name(stack, logical_id)
            role = resolver.resolve(props.get("RoleArn", f"arn:aws:iam::{self.account}:role/local"))
            sfn = self.client("stepfunctions")
            arn = f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}"
            try:
                sfn.describe_state_machine(stateMachineArn=arn)
                sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role)
            except sfn.exceptions.StateMachineDoesNotExist:
                arn = sfn.create_state_machine(name=name, definition=definition, roleArn=role)["stateMachineArn"]
            self.state_machines[logical_id] = arn
        self._rules(assembly)
        return dict(self.state_machines)

    def _alarm(self, resolver, logical_id: str, resource: dict[str, Any]) -> None:
        """The template's alarm in moto's CloudWatch, under the name its Ref resolves to, so that the alarm names a
        definition passes (e.g. in UpdateEndpoint's AutoRollbackConfiguration) find it."""
        props = resolver.resolve(resource.get("Properties", {}))
        accepted = operation_model("cloudwatch", "PutMetricAlarm").input_shape.members
        request = {k: v for k, v in props.items() if k in accepted and v is not None}
        request["AlarmName"] = resolver.ref(logical_id)
        cloudwatch = self.client("cloudwatch")
        existing = cloudwatch.describe_alarms(AlarmNames=[request["AlarmName"]])["MetricAlarms"]
        cloudwatch.put_metric_alarm(**request)
        if existing and existing[0]["StateValue"] != "OK":  # AWS leaves an updated alarm's state unchanged; moto not
            cloudwatch.set_alarm_state(
                AlarmName=request["AlarmName"],
                StateValue=existing[0]["StateValue"],
                StateReason=existing[0].get("StateReason") or "unchanged by the update of the alarm",
            )

    def _rules(self, assembly: Assembly) -> None:
        """EventBridge rules whose targets are this assembly's state machines (see events.py)."""
        machines = set(self.state_machines.values())
        for stack in assembly.stacks.values():
            resolver = assembly.resolver(stack)
            for logical_id, resource in stack.of_type("AWS::Events::Rule").items():
                props = resolver.resolve(resource.get("Properties", {}))
                targets = tuple(
                    Target(
                        arn=t["Arn"],
                        role_arn=t.get("RoleArn"),
                        dead_letter_arn=t.get("DeadLetterConfig", {}).get("Arn"),
                        constant_input=t.get("Input"),
                        paths=t.get("InputTransformer", {}).get("InputPathsMap"),
                        template=t.get("InputTransformer", {}).get("InputTemplate"),
                    )
                    for t in props.get("Targets", [])
                    if t["Arn"] in machines
                )
                if targets and "EventPattern" in props:
                    self.events.add(
                        Rule(logical_id, props["EventPattern"], targets, resolver.get_att(logical_id, "Arn"))
                    )

    def _model_package_event(self, kind: str, name: str, record: dict[str, Any]) -> None:
        """SageMaker's "Model Package State Change" event, as EventBridge delivers it."""
        if kind != "model_package" or not record.get("ModelPackageGroupName"):
            return
        detail = {
            k: record.get(k)
            for k in (
                "ModelPackageGroupName",
                "ModelPackageArn",
                "ModelPackageVersion",
                "ModelApprovalStatus",
                "ModelPackageStatus",
            )
        }
        self.events.put_event(
            {
                "version": "0",
                "source": "aws.sagemaker",
                "account": self.account,
                "region": self.region,
                "detail-type": "SageMaker Model Package State Change",
                "resources": [record["ModelPackageArn"]],
                "detail": detail,
            }
        )

    @staticmethod
    def _definition(resolver, props: dict[str, Any]) -> str:
        if "DefinitionString" in props:
            text = resolver.resolve(props["DefinitionString"])
        elif "Definition" in props:
            text = json.dumps(resolver.resolve(props["Definition"]))
        else:
            raise TemplateError("state machine without DefinitionString or Definition")
        for key, value in resolver.resolve(props.get("DefinitionSubstitutions", {})).items():
            text = text.replace("${" + key + "}", str(value))
        return text

    def _function(self, assembly: Assembly, stack, logical_id: str, resource: dict[str, Any]) -> Function:
        resolver = assembly.resolver(stack)
        props = resource.get("Properties", {})
        name = assembly.physical_name(stack, logical_id)
        asset = resource.get("Metadata", {}).get("aws:asset:path")
        if asset:
            code_dir = (assembly.directory / asset).resolve()
        elif "ZipFile" in props.get("Code", {}):
            code_dir = self.state_dir / "lambda-inline" / name
            code_dir.mkdir(parents=True, exist_ok=True)
            module = props.get("Handler", "index.handler").rsplit(".", 1)[0]
            (code_dir / f"{module}.py").write_text(resolver.resolve(props["Code"]["ZipFile"]))
        else:
            raise TemplateError(f"{stack.name}/{logical_id}: no aws:asset:path metadata and no inline code")
        env = resolver.resolve(props.get("Environment", {}).get("Variables", {}))
        return Function(
            name=name,
            arn=resolver.get_att(logical_id, "Arn"),
            handler=props.get("Handler", "index.handler"),
            code_dir=code_dir,
            environment={k: str(v) for k, v in env.items()},
            timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
            role_arn=resolver.resolve(props["Role"]) if "Role" in props else None,
        )

    # -- executions -------------------------------------------------------------
    def start_execution(self, state_machine_arn: str, execution_input: dict[str, Any], name: str | None = None) -> str:
        kwargs = {
            "stateMachineArn": state_machine_arn,
            "input": json.dumps(execution_input),
            "name": name or str(uuid.uuid4()),  # AWS names unnamed executions with a UUID
        }
        return self.client("stepfunctions").start_execution(**kwargs)["executionArn"]

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        events: list[dict[str, Any]] = []
        token = None
        while True:
            kwargs = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return events

    def result(self, execution_arn: str, execution_input: dict[str, Any]) -> ExecutionResult:
        described = self.client("stepfunctions").describe_execution(executionArn=execution_arn)
        events = self.history(execution_arn)
        stop = described.get("stopDate")
        seconds = (
            ((stop or described["startDate"]).timestamp() - described["startDate"].timestamp())
            if stop
            else time.time() - described["startDate"].timestamp()
        )
        output = described.get("output")
        return ExecutionResult(
            arn=execution_arn,
            status=described["status"],
            input=execution_input,
            output=json.loads(output) if output else None,
            error=described.get("error"),
            cause=described.get("cause"),
            seconds=seconds,
            states=state_runs(events),
            history=events,
        )

    def wait(self, execution_arn: str, timeout: float = 1800, poll: float = 0.25, on_poll=None) -> str:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = sfn.describe_execution(executionArn=execution_arn)["status"]
            if on_poll is not None:
                on_poll(execution_arn)
            if status in TERMINAL_EXECUTION:
                return status
            time.sleep(poll)
        raise TimeoutError(f"execution {execution_arn} still running after {timeout} s")

    def run(
        self, state_machine_arn: str, execution_input: dict[str, Any], timeout: float = 1800, on_poll=None
    ) -> ExecutionResult:
        arn = self.start_execution(state_machine_arn, execution_input)
        self.wait(arn, timeout=timeout, on_poll=on_poll)
        return self.result(arn, execution_input)
