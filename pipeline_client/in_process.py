"""The local cloud in this process, for a client that runs on it (the notebook's connect("local")).

The client is the same PipelineClient as on AWS: boto3 calls, which the local cloud routes to moto and its local
SageMaker (local_runner/hooks.py). What differs is who owns the local cloud: here the client does (it starts
it, deploys the synthesized app and stops it on close); under `make run` the command does (client_of).

The local cloud patches boto3 for the whole process (moto), so one is open at a time; opening another
(re-running a notebook's first cell) closes the previous one.
"""

from __future__ import annotations

import atexit
import logging
from pathlib import Path

from local_runner.cloud import LocalCloud
from local_runner.pipeline import STATE_DIR, SynthError, load_assembly
from local_runner.template import Assembly, TemplateError

from .client import LOCAL_POLL_SECONDS, PipelineClient
from .deployment import Resources
from .errors import PipelineError

_open: InProcessCloud | None = None


class InProcessCloud:
    """A started LocalCloud and what a client needs to know of it: where its records are, how to save it."""

    def __init__(self, cloud: LocalCloud, *, owned: bool, cdk_out: Path | None = None):
        self.cloud = cloud
        self.owned = owned  # False: the command that started the cloud stops it
        self.cdk_out = cdk_out
        self.closed = False

    @property
    def runner_dir(self) -> Path:
        return self.cloud.state_dir

    def save(self) -> None:
        if not self.closed:
            self.cloud.save()  # `local_runner stop` and the failure hint read the state from disk

    def close(self, *, keep_serving: bool = False) -> None:
        global _open
        if not self.owned or self.closed:
            return
        self.closed = True
        atexit.unregister(self._at_exit)
        if _open is self:
            _open = None
        try:
            if not keep_serving:
                self.cloud.sagemaker.stop_endpoints(delete=True)
        finally:
            self.cloud.stop()

    def _at_exit(self) -> None:  # a kernel that shuts down must not leave endpoint servers behind
        self.close()

    def failure_hint(self, resources: Resources, execution: str) -> str:
        runner = self.runner_dir
        return (
            f"the failure record is {runner}/s3/{resources.artifacts_bucket}/failures/{execution}/failure.json; "
            f"the jobs' logs are {runner}/sagemaker/<kind>/<job>/job.log (transform jobs: transform.log); the "
            f"Lambda functions' log is {runner}/lambda.log"
        )

    def scoring_fix(self, env: str) -> str:
        if self.cdk_out is not None:
            return f"synthesize {self.cdk_out} again (make synth ENV={env}) and connect again"
        return "connect again: the app is synthesized again when config/ is newer than the last synthesis"


def client_of(cloud: LocalCloud, *, env: str, work_dir: Path) -> PipelineClient:
    """A client of a local cloud the caller started and deployed (and stops): `make run`, `make score`."""
    return PipelineClient(
        env=env,
        session=cloud.session(),
        poll_seconds=LOCAL_POLL_SECONDS,
        work_dir=work_dir,
        local=InProcessCloud(cloud, owned=False),
    )


def open_local(
    *,
    env: str = "dev",
    state_dir: Path | str | None = None,
    cdk_out: Path | str | None = None,
    time_scale: float = 0.02,
) -> PipelineClient:
    """Start the local cloud in this process with the app of `env` deployed, and a client that owns it."""
    global _open
    if _open is not None:
        _open.close()
    state_dir = Path(state_dir or STATE_DIR).resolve()
    cdk_out = Path(cdk_out) if cdk_out else None
    # moto logs each failed state with the interpreter's internals; RunFailed says it plainly.
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    assembly = _assembly(env=env, state_dir=state_dir, cdk_out=cdk_out)
    runner_dir = state_dir / "runner"
    runner_dir.mkdir(parents=True, exist_ok=True)
    cloud = LocalCloud(runner_dir, time_scale=time_scale, lambda_log=runner_dir / "lambda.log")
    cloud.start()
    local = InProcessCloud(cloud, owned=True, cdk_out=cdk_out)
    try:
        cloud.deploy(assembly)
        client = PipelineClient(
            env=env,
            session=cloud.session(),
            poll_seconds=LOCAL_POLL_SECONDS,
            work_dir=state_dir,
            local=local,
        )
    except BaseException:
        cloud.stop()
        raise
    _open = local
    atexit.register(local._at_exit)
    return client


def _assembly(*, env: str, state_dir: Path, cdk_out: Path | None) -> Assembly:
    """The CLI's own synthesis step (synthesize into <state dir>/cdk.out when the sources are newer)."""
    try:
        return load_assembly(env=env, state_dir=state_dir, cdk_out=cdk_out)
    except SynthError as error:
        raise PipelineError(f"{error}\nfix: correct the app until `make synth ENV={env}` passes") from None
    except TemplateError as error:
        raise PipelineError(
            f"{error}\nfix: synthesize the app again (make synth ENV={env}), or leave PIPELINE_CDK_OUT unset"
        ) from None
