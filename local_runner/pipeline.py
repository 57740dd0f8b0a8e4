"""The project's app, synthesized for the local cloud: `cdk synth` of one environment when its sources changed."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

from stacks.contract import stage_name

from .template import Assembly, TemplateError

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = REPO_ROOT / ".local"  # the local cloud's state: S3, SageMaker, synthesized assemblies
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
