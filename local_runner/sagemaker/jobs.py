"""Processing and training jobs: the real container entry points in subprocesses.

Each job gets its own `/opt/ml` tree (`SAGEMAKER_BASE_DIR`); channels and processing
inputs are copied from local S3 before the process starts, and the model
(`model.tar.gz`) or processing outputs are copied back when it succeeds.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError

from .. import s3
from ..validation import ServiceError
from . import hosts, job_forks, lifetime, sharding

FAILURE_REASON_LIMIT = 1024


@dataclass
class Outcome:
    returncode: int | None
    log: str
    failure: str | None
    stopped: bool = False
    timed_out: bool = False
    elapsed: float = 0.0


@dataclass
class Process:
    """A running container process that StopXJob can end."""

    popen: subprocess.Popen | job_forks.ForkedProcess | None = None
    stop_requested: threading.Event = field(default_factory=threading.Event)
    interrupted: threading.Event = field(default_factory=threading.Event)
    #: a multi-instance job's hosts (multihost.run), each its own Process: what reaches the job reaches them
    members: list[Process] = field(default_factory=list)

    def stop(self) -> None:
        self.stop_requested.set()
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        for member in list(self.members):
            member.stop()

    def interrupt(self) -> None:
        """A spot interruption: the same SIGTERM, but the job is not stopped (it restarts)."""
        self.interrupted.set()
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        for member in list(self.members):
            member.interrupt()


def _checkpoint_files(directory: Path) -> dict[str, tuple[int, int]]:
    files = {}
    with contextlib.suppress(FileNotFoundError):
        for path in directory.iterdir():
            if not path.name.startswith("."):  # temporary files before an atomic rename
                with contextlib.suppress(FileNotFoundError):
                    stat = path.stat()
                    files[path.name] = (stat.st_mtime_ns, stat.st_size)
    return files


def interrupt_after_checkpoints(directory: Path, process: Process, writes: int, poll: float = 0.02) -> None:
    """Interrupt `process` once `writes` changes of its checkpoint directory were seen (what the tree
    started with, e.g. downloaded checkpoints, does not count). Polling: writes closer than `poll` count once."""

    def watch() -> None:
        seen, count = _checkpoint_files(directory), 0
        while not process.stop_requested.is_set():
            if process.popen is not None and process.popen.poll() is not None:
                return
            current = _checkpoint_files(directory)
            if current != seen:
                time.sleep(poll)  # one checkpoint may write several files: let it settle, count it once
                seen, count = _checkpoint_files(directory), count + 1
                if count >= writes:
                    process.interrupt()
                    return
            time.sleep(poll)

    threading.Thread(target=watch, name=f"interrupt-{directory.parent.name}", daemon=True).start()


def container_path(base: Path, local_path: str) -> Path:
    """`/opt/ml/processing/x` -> `{base}/processing/x`; any other absolute path goes under `{base}/fs`."""
    if local_path.startswith("/opt/ml/"):
        return base / local_path[len("/opt/ml/") :]
    return base / "fs" / local_path.lstrip("/")


def command(entrypoint: list[str] | None, arguments: list[str] | None, default: list[str]) -> list[str]:
    """The container command with `python`/`python3` mapped to this interpreter."""
    cmd = list(entrypoint) if entrypoint else list(default)
    if cmd and Path(cmd[0]).name in ("python", "python3"):
        cmd[0] = sys.executable
    return cmd + list(arguments or [])


def run(
    cmd: list[str],
    base: Path,
    cwd: Path,
    env: dict[str, str],
    log_path: Path,
    process: Process,
    max_runtime: float | None = None,
) -> Outcome:
    full_env = job_forks.machine_environment()
    full_env.update(env)
    full_env["SAGEMAKER_BASE_DIR"] = str(base)
    full_env["PYTHONUNBUFFERED"] = "1"
    path = full_env.get("PYTHONPATH")
    full_env["PYTHONPATH"] = str(cwd) + (os.pathsep + path if path else "")
    started = time.monotonic()
    timed_out = False
    with open(log_path, "wb") as log:
        if process.stop_requested.is_set():
            return Outcome(None, "", None, stopped=True)
        # a fork of a Python that imported the container's libraries once (job_forks.py), or an exec
        popen = job_forks.spawn(cmd, cwd=cwd, env=full_env, log_path=log_path) or subprocess.Popen(
            cmd,
            cwd=cwd,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=lifetime.die_with_runner(),  # a job ends with its runner (this thread waits for it)
        )
        process.popen = popen
        try:
            popen.wait(timeout=max_runtime)
        except subprocess.TimeoutExpired:
            timed_out = True
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()
    text = log_path.read_text(errors="replace")
    failure = None
    for candidate in (base / "output" / "failure", base / "output" / "message"):
        if candidate.is_file() and candidate.read_text(errors="replace").strip():
            failure = candidate.read_text(errors="replace").strip()[:FAILURE_REASON_LIMIT]
            break
    return Outcome(
        popen.returncode,
        text,
        failure,
        stopped=process.stop_requested.is_set(),
        timed_out=timed_out,
        elapsed=time.monotonic() - started,
    )


def failure_reason(outcome: Outcome) -> str:
    if outcome.failure:
        return outcome.failure
    if outcome.timed_out:
        return "MaxRuntimeExceeded: the job ran longer than StoppingCondition.MaxRuntimeInSeconds"
    tail = outcome.log.strip().splitlines()[-5:]
    reason = f"AlgorithmError: exit code {outcome.returncode}"
    if tail:
        reason += ": " + " | ".join(tail)
    return reason[:FAILURE_REASON_LIMIT]


def unexpected_failure(error: Exception) -> str:
    """A FailureReason for an error outside the container: a denied or invalid AWS call is the customer's
    ClientError, as SageMaker reports it; anything else is SageMaker's InternalServerError."""
    if isinstance(error, ServiceError) and error.status < 500:
        return f"ClientError: {error.message}"[:1024]
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message") or str(error)
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
        if status < 500:
            return f"ClientError: {message}"[:1024]
    return f"InternalServerError: {error}"[:1024]


def final_metrics(log: str, definitions: list[dict[str, str]]) -> dict[str, float]:
    """The last value each MetricDefinitions regex captured in the log (as SageMaker reports them)."""
    values: dict[str, float] = {}
    for definition in definitions or []:
        try:
            pattern = re.compile(definition["Regex"])
        except re.error:
            continue
        last = None
        for match in pattern.finditer(log):
            last = match.group(1) if pattern.groups else match.group(0)
        if last is not None:
            with contextlib.suppress(ValueError):
                values[definition["Name"]] = float(last)
    return values


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def prepare_training(base: Path, request: dict) -> None:
    """Every host's /opt/ml tree (hosts.tree): its resourceconfig.json, its share of each channel, the
    checkpoints; InstanceCount hosts as ResourceConfig asks."""
    names = hosts.names(hosts.instance_count(request.get("ResourceConfig")))
    for index, host in enumerate(names):
        _prepare_training_host(hosts.tree(base, index), request, host, names, index)


def _prepare_training_host(base: Path, request: dict, host: str, names: list[str], index: int) -> None:
    config = base / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(request.get("HyperParameters", {}), indent=1))
    channels = {}
    for channel in request.get("InputDataConfig", []):
        name = channel["ChannelName"]
        distribution = (
            channel.get("DataSource", {}).get("S3DataSource", {}).get("S3DataDistributionType", "FullyReplicated")
        )
        channels[name] = {
            "ContentType": channel.get("ContentType", ""),
            "TrainingInputMode": channel.get(
                "InputMode", request["AlgorithmSpecification"].get("TrainingInputMode", "File")
            ),
            "S3DistributionType": distribution,
            "RecordWrapperType": channel.get("RecordWrapperType", "None"),
        }
        source = channel.get("DataSource", {}).get("S3DataSource")
        target = base / "input" / "data" / name
        target.mkdir(parents=True, exist_ok=True)
        if source:
            sharding.download(source["S3Uri"], target, distribution, index, len(names))
    (config / "inputdataconfig.json").write_text(json.dumps(channels, indent=1))
    instance_type = request.get("ResourceConfig", {}).get("InstanceType")
    hosts.write_resource_config(config / "resourceconfig.json", host, names, instance_type)
    for sub in ("model", "output/data", "checkpoints"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    checkpoint = request.get("CheckpointConfig", {}).get("S3Uri")
    if checkpoint:
        s3.download(checkpoint, base / "checkpoints")


def prepare_processing(base: Path, request: dict) -> list[str]:
    """Every instance's tree (hosts.tree): /opt/ml/config/resourceconfig.json, its share of each S3Input
    (S3DataDistributionType), the output directories. Returns the S3Uris under which no object was found."""
    names = hosts.names(hosts.instance_count(request.get("ProcessingResources", {}).get("ClusterConfig")))
    instance_type = request.get("ProcessingResources", {}).get("ClusterConfig", {}).get("InstanceType")
    empty = []
    for index, host in enumerate(names):
        tree = hosts.tree(base, index)
        hosts.write_resource_config(tree / "config" / "resourceconfig.json", host, names, instance_type)
        # SageMaker gives a processing container its request too (the inputs' distribution types, for one)
        (tree / "config" / "processingjobconfig.json").write_text(json.dumps(request, indent=1, default=str))
        for item in request.get("ProcessingInputs", []):
            source = item.get("S3Input")
            if source:
                target = container_path(tree, source["LocalPath"])
                distribution = source.get("S3DataDistributionType", "FullyReplicated")
                _, listed = sharding.download(source["S3Uri"], target, distribution, index, len(names))
                if listed == 0 and source["S3Uri"] not in empty:
                    empty.append(source["S3Uri"])
        for item in request.get("ProcessingOutputConfig", {}).get("Outputs", []):
            if item.get("S3Output"):
                container_path(tree, item["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
    return empty


def upload_processing_outputs(base: Path, request: dict) -> None:
    """Each instance's output directories to their S3Uri (instances name their files apart, as on SageMaker)."""
    count = hosts.instance_count(request.get("ProcessingResources", {}).get("ClusterConfig"))
    for index in range(count):
        for item in request.get("ProcessingOutputConfig", {}).get("Outputs", []):
            if item.get("S3Output"):
                local = container_path(hosts.tree(base, index), item["S3Output"]["LocalPath"])
                s3.upload_dir(local, item["S3Output"]["S3Uri"])


def package_model(base: Path, destination: Path) -> None:
    with tarfile.open(destination, "w:gz") as tar:
        for path in sorted((base / "model").iterdir()):
            tar.add(path, arcname=path.name)
