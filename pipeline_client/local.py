"""The pipeline on this machine: the local runner in this process, as `make run` uses it.

The local cloud patches boto3 for the whole process (moto), so one local pipeline is open at a time; opening
another (re-running a notebook's first cell) closes the previous one.
"""

from __future__ import annotations

import atexit
import logging
from pathlib import Path
from typing import Any, ClassVar

from local_runner import cli
from local_runner.cloud import LocalCloud
from local_runner.pipeline import SynthError, load_assembly
from local_runner.template import Assembly, TemplateError

from .base import Pipeline, Resources, stack_names
from .errors import PipelineError

_open: LocalPipeline | None = None


class LocalPipeline(Pipeline):
    backend: ClassVar[str] = "local"
    poll_seconds = 0.25

    def __init__(
        self,
        *,
        env: str = "dev",
        state_dir: Path | str | None = None,
        cdk_out: Path | str | None = None,
        time_scale: float = 0.02,
    ):
        global _open
        if _open is not None:
            _open.close()
        state_dir = Path(state_dir or cli.STATE_DIR).resolve()
        # moto logs each failed state with the interpreter's internals; RunFailed says it plainly.
        logging.getLogger("moto").setLevel(logging.CRITICAL)
        assembly = _assembly(env=env, state_dir=state_dir, cdk_out=cdk_out)
        self.runner_dir = state_dir / "runner"
        self.runner_dir.mkdir(parents=True, exist_ok=True)
        self.cloud: LocalCloud | None = LocalCloud(
            self.runner_dir, time_scale=time_scale, lambda_log=self.runner_dir / "lambda.log"
        )
        self.cloud.start()
        try:
            deployed = self.cloud.deploy(assembly)
            resources = Resources.from_outputs(
                backend=self.backend, env=env, region=self.cloud.region, outputs=_outputs(assembly, env)
            )
            for arn in (resources.state_machine_arn, resources.scoring_state_machine_arn):
                if arn is not None and arn not in deployed.values():
                    raise PipelineError(f"{arn} was not deployed locally; run `make synth`")
        except BaseException:
            self.cloud.stop()
            raise
        super().__init__(resources=resources, work_dir=state_dir)
        self.cdk_out = Path(cdk_out) if cdk_out else None
        _open = self
        atexit.register(self.close)  # a kernel that shuts down must not leave endpoint servers behind

    def client(self, service: str) -> Any:
        if self.cloud is None:
            raise PipelineError("this local pipeline is closed; connect again (connect('local'))")
        return self.cloud.client(service)

    def close(self, *, keep_serving: bool = False) -> None:
        """Stop the local cloud and, unless keep_serving, the endpoint servers (as `python -m local_runner stop`).
        With keep_serving the endpoint answers on until `python -m local_runner stop --state-dir DIR`."""
        global _open
        cloud, self.cloud = self.cloud, None
        if cloud is None:
            return
        atexit.unregister(self.close)
        if _open is self:
            _open = None
        try:
            if not keep_serving:
                cloud.sagemaker.stop_endpoints(delete=True)
        finally:
            cloud.stop()

    def _after_run(self) -> None:
        if self.cloud is not None:
            self.cloud.save()  # `local_runner stop` and the failure hint read the state from disk

    def _scoring_fix(self) -> str:
        if self.cdk_out is not None:
            return f"synthesize {self.cdk_out} again (make synth ENV={self.resources.env}) and connect again"
        return "connect again: the app is synthesized again when config/ is newer than the last synthesis"

    def _failure_hint(self, execution_arn: str) -> str:
        return (
            f"the failure record is {self.runner_dir}/s3/{self.resources.artifacts_bucket}/failures/"
            f"{execution_arn.rsplit(':', 1)[-1]}/failure.json; the jobs' logs are {self.runner_dir}/sagemaker/"
            f"<kind>/<job>/job.log (transform jobs: transform.log); the Lambda functions' log is "
            f"{self.runner_dir}/lambda.log"
        )


def _assembly(*, env: str, state_dir: Path, cdk_out: Path | str | None) -> Assembly:
    """The CLI's own synthesis step (synthesize into <state dir>/cdk.out when the sources are newer)."""
    try:
        return load_assembly(env=env, state_dir=state_dir, cdk_out=Path(cdk_out) if cdk_out else None)
    except SynthError as error:
        raise PipelineError(f"{error}\nfix: correct the app until `make synth ENV={env}` passes") from None
    except TemplateError as error:
        raise PipelineError(
            f"{error}\nfix: synthesize the app again (make synth ENV={env}), or leave PIPELINE_CDK_OUT unset"
        ) from None


def _outputs(assembly: Assembly, env: str) -> dict[str, dict[str, str]]:
    """Every stack's Outputs, resolved to the local names, keyed like CloudFormation's stack names."""
    outputs: dict[str, dict[str, str]] = {}
    for stack in assembly.stacks.values():
        resolver = assembly.resolver(stack)
        values = stack.template.get("Outputs", {})
        outputs[stack.name] = {key: str(resolver.resolve(output["Value"])) for key, output in values.items()}
    for name in stack_names(env):
        if name not in outputs:
            raise PipelineError(
                f"stack {name} is not in the cloud assembly {assembly.directory} (it has {', '.join(outputs)}); "
                f"synthesize this environment (make synth ENV={env}) or point PIPELINE_CDK_OUT at its cdk.out"
            )
    return outputs
