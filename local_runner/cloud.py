"""The local cloud's lifecycle: moto (Step Functions, S3, SNS, SQS, CloudWatch) plus the local SageMaker, Lambda
and CloudFormation outputs, in one process, with its state persisted under a directory.

Deploying an assembly is deployer.py's; following executions is executions.py's. LocalCloud keeps the public
methods other code calls (deploy, start_execution, result, wait, run) and hands them on.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import boto3
from botocore.response import StreamingBody
from moto import mock_aws

from . import boto_sessions, hooks, interpreter, s3
from .deployer import TemplateDeployer
from .events import LocalEventBus
from .executions import TERMINAL_EXECUTION, ExecutionClient, ExecutionResult, StateRun, state_runs
from .faults import Faults
from .lambdas import LocalLambda
from .permissions import Authorizer
from .sagemaker import LocalSageMaker, Store, job_forks
from .stack_outputs import LocalStacks
from .template import ACCOUNT, REGION, Assembly
from .validation import ServiceError, shape_response, validate_request

REPO_ROOT = Path(__file__).resolve().parent.parent
__all__ = ["TERMINAL_EXECUTION", "ExecutionResult", "LocalCloud", "StateRun", "state_runs"]


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
        self.region = REGION
        self.account = ACCOUNT
        self._mock = None
        self.sagemaker: LocalSageMaker | None = None
        self._lambda_log = open(lambda_log, "a") if lambda_log else None  # noqa: SIM115 - closed in stop()
        self.lambdas = LocalLambda(REGION, self._lambda_log)
        self.router = hooks.Router()
        self.state_machines: dict[str, str] = {}
        self.assembly: Assembly | None = None
        self.stacks = LocalStacks(REGION, ACCOUNT)  # DescribeStacks of what deploy() deployed
        self.executions = ExecutionClient(self.client)
        self.deployer = TemplateDeployer(self)
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
        boto_sessions.install_default()
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
        self.router.register("cloudformation", self.stacks.handle)
        self.router.checks.append(self.faults.check)
        hooks.activate(self.router)
        interpreter.set_job_waiter(self.sagemaker.wait_for_change)
        if self.restart_endpoints:
            self.sagemaker.restart_endpoints()

    def stop(self) -> None:
        try:
            if self._mock is not None:
                # a run's thread would otherwise go on against the next cloud this process starts
                self.executions.abort_running("the local cloud stopped")
            if self.sagemaker is not None:
                for process in self.sagemaker.processes.values():  # jobs an interrupted run left running
                    process.stop()
                self.sagemaker.join(timeout=30)
                self.sagemaker.release_port_claims()
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

    def session(self) -> boto3.Session:
        """A session for a client of this cloud (its region; service models read once per process)."""
        return boto_sessions.session(self.region)

    def client(self, service: str):
        # One client per service for the whole process (boto_sessions.shared_client): creating one builds its
        # model and handlers (about a tenth of a local run's in-process CPU when every call made its own).
        return boto_sessions.shared_client(service, self.region)

    def deploy(self, assembly: Assembly) -> dict[str, str]:
        """Deploy the assembly's stacks (see deployer.py); returns logical id -> state machine ARN."""
        job_forks.warm()  # a deployed stage runs jobs: the fork server's imports overlap the deployment
        machines = self.deployer.deploy(assembly)
        self.stacks.deploy(assembly)
        return machines

    # -- executions (executions.py) ------------------------------------------------
    def start_execution(self, state_machine_arn: str, execution_input: dict[str, Any], name: str | None = None) -> str:
        return self.executions.start_execution(state_machine_arn, execution_input, name)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        return self.executions.history(execution_arn)

    def result(self, execution_arn: str, execution_input: dict[str, Any]) -> ExecutionResult:
        return self.executions.result(execution_arn, execution_input)

    def wait(self, execution_arn: str, timeout: float = 1800, poll: float = 0.25, on_poll=None) -> str:
        return self.executions.wait(execution_arn, timeout=timeout, poll=poll, on_poll=on_poll)

    def run(
        self, state_machine_arn: str, execution_input: dict[str, Any], timeout: float = 1800, on_poll=None
    ) -> ExecutionResult:
        return self.executions.run(state_machine_arn, execution_input, timeout=timeout, on_poll=on_poll)

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
