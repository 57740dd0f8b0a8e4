"""Shared fixtures: the app is synthesized once per environment per test session, as `cdk synth` does."""

from __future__ import annotations

import functools
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import botocore.session
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("dev", "prod")

# jsii starts the node binary on PATH: the project's Node 22, not an end-of-life system Node.
os.environ["PATH"] = f"{REPO_ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"
sys.path.insert(0, str(REPO_ROOT))
# The suite's two workers and the processes they start (a job's hosts, a server's workers) share two cores, as
# the local runner's jobs do (job_forks.SHARED_MACHINE): an OpenMP thread that waits sleeps instead of spinning.
# Set before any test imports scikit-learn or xgboost, whose OpenMP reads it when it loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from tests.shared_build import built_once  # noqa: E402

# moto resets boto3's default session whenever a mock starts, and each new session read and parsed the JSON
# model of every service it made a client for again (about 4% of a test worker's CPU): in the test processes,
# sessions share one loader per data path, as the local cloud's do (local_runner/boto_sessions.py). The
# loader only reads files that do not change while the process runs.
botocore.session.create_loader = functools.cache(botocore.session.create_loader)


@dataclass(frozen=True)
class SynthesizedApp:
    environment: str
    outdir: Path
    templates: dict[str, dict]  # stack role ("storage", "pipeline", ...) -> template
    stack_names: dict[str, str]  # stack role -> stack (artifact) name
    stage_dir: Path  # the stage's own cloud assembly (cdk.out/assembly-<stage>)

    def template(self, role: str) -> dict:
        return self.templates[role]

    def resources(self, role: str, resource_type: str) -> dict[str, dict]:
        return {k: v for k, v in self.templates[role]["Resources"].items() if v["Type"] == resource_type}


def cdk_json_context() -> dict:
    return json.loads((REPO_ROOT / "cdk.json").read_text())["context"]


def synthesize(environment: str, outdir: Path, config=None) -> SynthesizedApp:
    """`config`: an AppConfig to synthesize instead of config/<environment>.json."""
    import aws_cdk as cdk

    from stacks.app_builder import build_app
    from stacks.config import load_config

    app = cdk.App(context={**cdk_json_context(), "env": environment}, outdir=str(outdir))
    stage = build_app(app, [config or load_config(environment)])[environment]
    assembly = app.synth().get_nested_assembly(stage.artifact_id)
    templates = {role: assembly.get_stack_artifact(stack.artifact_id).template for role, stack in stage.stacks.items()}
    names = {role: stack.artifact_id for role, stack in stage.stacks.items()}
    return SynthesizedApp(environment, outdir, templates, names, Path(assembly.directory))


def _synthesized_once(tmp_path_factory: pytest.TempPathFactory, environment: str) -> SynthesizedApp:
    """The working tree's `environment`, synthesized by the first worker that asks; the others read its files."""

    def build(directory: Path) -> None:
        app = synthesize(environment, directory / "cdk.out")
        index = {"stack_names": app.stack_names, "stage_dir": app.stage_dir.name}
        (directory / "index.json").write_text(json.dumps(index))

    directory = built_once(tmp_path_factory, f"cdk-{environment}", build)
    index = json.loads((directory / "index.json").read_text())
    outdir = directory / "cdk.out"
    stage_dir = outdir / index["stage_dir"]
    names = index["stack_names"]
    templates = {role: json.loads((stage_dir / f"{name}.template.json").read_text()) for role, name in names.items()}
    return SynthesizedApp(environment, outdir, templates, names, stage_dir)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SynthesizedApp]:
    return {env: _synthesized_once(tmp_path_factory, env) for env in ENVIRONMENTS}


@pytest.fixture(scope="session")
def dev(synthesized: dict[str, SynthesizedApp]) -> SynthesizedApp:
    return synthesized["dev"]


@pytest.fixture(scope="session")
def prod(synthesized: dict[str, SynthesizedApp]) -> SynthesizedApp:
    return synthesized["prod"]


@pytest.fixture(params=ENVIRONMENTS, scope="session")
def each_env(request: pytest.FixtureRequest, synthesized: dict[str, SynthesizedApp]) -> SynthesizedApp:
    return synthesized[request.param]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules of slow tests first, each module's tests in their order. `--dist loadfile` hands modules out
    in this order as workers ask: the long ones start early, and the workers end together on short ones (in
    file order, the last long module often ran alone at the end). The container's slow modules need no
    synthesis: they go right after the first slow module, which synthesizes HEAD (about 20 s) while the other
    worker runs them, instead of waiting for the same synthesis."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    container = {path for path in slow if "training_code" in path.parts}
    first = next((item.path for item in items if item.path in slow - container), None)

    def rank(item: pytest.Item) -> int:
        return 0 if item.path == first else 1 if item.path in container else 2 if item.path in slow else 3

    items.sort(key=rank)  # a stable sort: the order within each rank is kept
