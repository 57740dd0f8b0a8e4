"""The project's pipeline: synthesize it, find its state machine and data bucket, build an execution input."""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.contract import stage_name

from .template import Assembly, Stack, TemplateError

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("app.py", "cdk.json", "stacks", "lambdas", "training_code", "config")


class SynthError(RuntimeError):
    pass


def _newest(paths: list[Path]) -> float:
    newest = 0.0
    for root in paths:
        if root.is_file():
            newest = max(newest, root.stat().st_mtime)
        elif root.is_dir():
            for path in root.rglob("*"):
                if path.is_file() and "__pycache__" not in path.parts:
                    newest = max(newest, path.stat().st_mtime)
    return newest


def is_stale(out_dir: Path, repo: Path = REPO_ROOT) -> bool:
    manifest = out_dir / "manifest.json"
    if not manifest.is_file():
        return True
    return _newest([repo / s for s in SOURCES]) > manifest.stat().st_mtime


def synth_arguments(env: str, out_dir: Path) -> list[str]:
    """`cdk synth` of one environment's stage. The CLI fails on policy-gate errors only in the stacks it
    selects, and with no selector it selects none inside a stage: '**' selects every stack of every stage."""
    return ["synth", "--quiet", "-c", f"env={env}", "-o", str(out_dir), "**"]


def synth(out_dir: Path, env: str = "dev", repo: Path = REPO_ROOT) -> None:
    """`cdk synth` with the project's Node and CDK CLI first on PATH (as `make synth` runs it)."""
    cdk = repo / "node_modules" / ".bin" / "cdk"
    if not cdk.exists():
        raise SynthError("the CDK CLI is not installed: run `make setup` (npm ci) first")
    path = os.pathsep.join(
        [str(repo / "node_modules" / ".bin"), str(repo / ".venv" / "bin"), os.environ.get("PATH", "")]
    )
    command = [str(cdk), *synth_arguments(env, out_dir)]
    done = subprocess.run(command, cwd=repo, env={**os.environ, "PATH": path}, capture_output=True, text=True)
    if done.returncode != 0:
        raise SynthError(f"cdk synth failed ({done.returncode}):\n{done.stderr[-4000:] or done.stdout[-4000:]}")


def load_assembly(*, env: str, state_dir: Path, cdk_out: Path | None = None, on_synth=None) -> Assembly:
    """The stage of `env`: from `cdk_out` as it is, else synthesized into <state dir>/cdk.out/<env> when the
    sources are newer than the last synthesis. `on_synth(out_dir)` is a context manager shown while it runs."""
    if cdk_out is not None:
        if not (cdk_out / "manifest.json").is_file():
            raise TemplateError(f"{cdk_out}: no cloud assembly there (run `make synth ENV={env}`)")
        return Assembly.load(cdk_out, stage=stage_name(env))
    out_dir = state_dir / "cdk.out" / env
    if is_stale(out_dir):
        with on_synth(out_dir) if on_synth else contextlib.nullcontext():
            synth(out_dir, env=env)
    return Assembly.load(out_dir, stage=stage_name(env))


@dataclass
class Pipeline:
    assembly: Assembly
    stack: Stack
    state_machine_id: str

    @classmethod
    def find(cls, assembly: Assembly, env: str | None = None) -> Pipeline:
        machines = assembly.state_machines()
        if len(machines) > 1 and env:
            machines = [m for m in machines if f"-{env}-".lower() in f"-{m[0].name}-".lower()] or machines
        if len(machines) > 1:
            # Prod also has the approval workflow; a run starts the training workflow (construct "Workflow").
            machines = [m for m in machines if m[1].startswith("WorkflowStateMachine")] or machines
        if not machines:
            raise TemplateError(f"no AWS::StepFunctions::StateMachine in {assembly.directory}")
        if len(machines) > 1:
            names = ", ".join(f"{s.name}/{lid}" for s, lid, _ in machines)
            raise TemplateError(f"more than one state machine in {assembly.directory}: {names}")
        stack, logical_id, _ = machines[0]
        return cls(assembly, stack, logical_id)

    def function_env(self) -> dict[str, str]:
        """The environment of the function the state machine starts with (the input-preparing Lambda)."""
        for stack in self.assembly.stacks.values():
            for resource in stack.of_type("AWS::Lambda::Function").values():
                env = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
                if "DATA_BUCKET" in env:
                    return self.assembly.resolver(stack).resolve(env)
        return {}

    def data_bucket(self) -> str:
        env = self.function_env()
        if env.get("DATA_BUCKET"):
            return env["DATA_BUCKET"]
        for stack in self.assembly.stacks.values():
            for logical_id in stack.of_type("AWS::S3::Bucket"):
                if "data" in logical_id.lower():
                    return self.assembly.resolver(stack).ref(logical_id)
        raise TemplateError("cannot tell which bucket holds the datasets (no DATA_BUCKET, no *Data* bucket)")

    def endpoint_name(self) -> str | None:
        return self.function_env().get("ENDPOINT_NAME")


def execution_input(
    data_uri: str,
    algorithm: str | None = None,
    tuning: bool | None = None,
    threshold: float | None = None,
    max_jobs: int | None = None,
    parallel: int | None = None,
    strategy: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The execution input the pipeline's schema takes; unset options keep the environment's defaults."""
    payload: dict[str, Any] = {"data": data_uri}
    if algorithm:
        payload["algorithm"] = algorithm
    tuning_fields: dict[str, Any] = {}
    if tuning is not None:
        tuning_fields["enabled"] = tuning
    if max_jobs is not None:
        tuning_fields["max_jobs"] = max_jobs
    if parallel is not None:
        tuning_fields["max_parallel_jobs"] = parallel
    if strategy:
        tuning_fields["strategy"] = strategy
    if tuning_fields:
        payload["tuning"] = tuning_fields
    if threshold is not None:
        payload["objective"] = {"threshold": threshold}
    payload.update(extra or {})
    return payload
