"""`python -m local_runner.server serve`: the local cloud's process, in the foreground.

It starts the same engine `make run` uses (a LocalCloud: moto's backends, the local SageMaker, the Lambdas in
process), deploys the synthesized stages into it, and serves the front on 127.0.0.1. SIGTERM or SIGINT stops it
cleanly: the endpoints stop, the executions go to the archive, S3 and SageMaker's store are saved, and the
state file goes."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from pathlib import Path

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from ..cloud import LocalCloud
from ..pipeline import REPO_ROOT, load_assembly, stage_name
from ..template import Assembly, TemplateError
from . import state
from .executions import ExecutionArchive
from .front import Front

log = logging.getLogger(__name__)


class PortTaken(RuntimeError):
    pass


def assemblies(envs: list[str], state_dir: Path, cdk_out: Path | None) -> list[Assembly]:
    """Each environment's stage, synthesized into <state dir>/cdk.out/<env> when stale (as `make run` does)."""
    loaded = []
    for env in envs:
        if cdk_out is not None and not (cdk_out / f"assembly-{stage_name(env)}").is_dir():
            raise TemplateError(f"{cdk_out} has no stage {stage_name(env)}: synthesize it (make synth ENV={env})")
        print(
            f"Loading the {env} stage{'' if cdk_out else ' (synthesized first when the sources changed)'} …", flush=True
        )
        loaded.append(load_assembly(env=env, state_dir=state_dir, cdk_out=cdk_out))
    return loaded


def _check_port(host: str, port: int) -> None:
    """werkzeug would print its own message and exit; this one names the fix."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortTaken(
                f"port {port} on {host} is taken ({error.strerror}): stop what holds it, or pick another with "
                f"make up PORT={port + 1} (python -m local_runner.server up --port {port + 1})"
            ) from None


def serve(
    *,
    state_dir: Path,
    port: int,
    envs: list[str],
    cdk_out: Path | None = None,
    code_dir: Path = REPO_ROOT,
    time_scale: float = 0.02,
    host: str = "127.0.0.1",
) -> int:
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    runner_dir = state_dir / "runner"
    runner_dir.mkdir(parents=True, exist_ok=True)
    _check_port(host, port)  # first: a taken port fails at once, not after a synthesis
    server = make_server(host, port, lambda environ, start: front(environ, start), threaded=True)
    stages = assemblies(envs, state_dir, cdk_out)
    cloud = LocalCloud(runner_dir, code_dir=code_dir, time_scale=time_scale, lambda_log=runner_dir / "lambda.log")
    url = f"http://{host}:{port}"
    with cloud:
        for stage in stages:
            cloud.deploy(stage)
        archive = ExecutionArchive(runner_dir / "executions.json")
        front = front_for(cloud, archive, lambda: _health(url, envs, cloud))

        def stop(signum, _frame) -> None:
            print(f"Stopping (signal {signum}) …", flush=True)
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        state.write(state_dir, pid=os.getpid(), port=port, url=url, envs=envs)
        print(f"Serving the local cloud at {url} (pid {os.getpid()})", flush=True)
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            server.server_close()
            print(f"Recorded {archive.record(cloud.client('stepfunctions'))} execution(s)", flush=True)
            cloud.sagemaker.stop_endpoints()  # their records stay: the next start serves them again
            state.clear(state_dir)
    print(f"Stopped; the state is saved in {runner_dir}", flush=True)
    return 0


def front_for(cloud: LocalCloud, archive: ExecutionArchive, health) -> Front:
    """The front over a started LocalCloud: its router for SageMaker, moto's server app for the rest."""
    return Front(cloud.router.call, DomainDispatcherApplication(create_backend_app), archive, health)


def _health(url: str, envs: list[str], cloud: LocalCloud) -> dict:
    return {
        "status": "running",
        "endpoint": url,
        "pid": os.getpid(),
        "environments": envs,
        "region": cloud.region,
        "account": cloud.account,
        "state_machines": [
            m["stateMachineArn"] for m in cloud.client("stepfunctions").list_state_machines()["stateMachines"]
        ],
    }
