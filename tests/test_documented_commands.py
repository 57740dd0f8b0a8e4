"""Every command the README and docs/ show: each `make` target exists, and each `make run RUN_ARGS=...`,
`python -m local_runner ...` and `python -m tools.start_run ...` example parses and passes the checks the
command applies before it starts (options, the gate's metric and threshold) with the configuration shipped.
The runs themselves are exercised end to end in tests/local_runner/ (test_first_hour.py, test_pipeline.py)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from local_runner import cli
from pipeline_client.arguments import run_options
from pipeline_client.options import environment_defaults
from tools import start_run

REPO_ROOT = Path(__file__).resolve().parent.parent
PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
COMMAND = re.compile(
    r"(make [a-z][a-z-]*(?: [A-Z_]+=(?:\"[^\"]*\"|\S+))*"  # a target and its VAR=value arguments
    r"|python -m (?:local_runner|tools\.start_run)[^`#\n]*)"  # a CLI call, up to a comment or code span
)


def _examples() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for line in page.read_text().splitlines():
            for command in COMMAND.findall(line):
                found.append((page.name, command.strip().rstrip(",.;:)")))
    return sorted(set(found))


EXAMPLES = _examples()


def _targets() -> set[str]:
    listed = subprocess.run(["make", "help"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"make ([a-z][a-z-]*)", listed))


def test_the_pages_show_commands() -> None:
    assert any("RUN_ARGS" in command for _, command in EXAMPLES)
    assert any(command.startswith("python -m tools.start_run") for _, command in EXAMPLES)


@pytest.mark.parametrize(("page", "command"), [e for e in EXAMPLES if e[1].startswith("make ")])
def test_every_make_target_shown_exists(page: str, command: str) -> None:
    target = command.split()[1]
    assert target in _targets() | {"help"}, f"{page}: `{command}`: the Makefile has no target {target}"


def _run_argv(command: str) -> list[str] | None:
    words = shlex.split(command)
    if words[:2] == ["make", "run"]:
        given = next((w for w in words if w.startswith("RUN_ARGS=")), "RUN_ARGS=")
        return ["run", *shlex.split(given.removeprefix("RUN_ARGS="))]
    if words[:3] == ["python", "-m", "local_runner"] and len(words) > 3 and words[3] in ("run", "bench"):
        return words[3:]
    return None


@pytest.mark.parametrize(
    ("page", "command"), [e for e in EXAMPLES if _run_argv(e[1]) is not None], ids=lambda value: value[:90]
)
def test_every_run_example_passes_the_checks_made_before_a_run(page: str, command: str) -> None:
    if "--help" in command:
        with pytest.raises(SystemExit) as exited:
            cli.parser().parse_args(_run_argv(command))
        assert exited.value.code == 0
        return
    args = cli.parser().parse_args(_run_argv(command))
    run_options(args, environment_defaults(args.env))  # raises OptionError naming the problem


@pytest.mark.parametrize(
    ("page", "command"), [e for e in EXAMPLES if e[1].startswith("python -m tools.start_run --")], ids=str
)
def test_every_start_run_example_passes_the_checks_made_before_the_upload(page: str, command: str) -> None:
    if "--help" in command:
        with pytest.raises(SystemExit) as exited:
            start_run.parse_args(shlex.split(command)[3:])
        assert exited.value.code == 0
        return
    args = start_run.parse_args(shlex.split(command)[3:])
    run_options(args, environment_defaults(args.env))


def test_the_readmes_configuration_error_is_the_one_synthesis_prints() -> None:
    from stacks.config import ConfigError, parse_config

    shown = next(line for line in PAGES[0].read_text().splitlines() if line.startswith("error: invalid configuration"))
    key, value = re.search(r": (\w+\.\w+) = '([^']+)'", shown).groups()
    section, field = key.split(".")
    raw = json.loads((REPO_ROOT / "config" / "dev.json").read_text())
    raw[section][field] = value
    with pytest.raises(ConfigError) as raised:
        parse_config({**raw, "environment": "dev"})
    assert shown == f"error: {raised.value}"
