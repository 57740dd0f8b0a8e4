"""The layers of docs/architecture.md hold: import-linter checks `.importlinter` over the repository, and
the same check fails on a copy of the code where the bottom layer imports one above it."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = REPO_ROOT / ".importlinter"


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    # A fresh interpreter in `tree`: the packages are found there, not in this process's sys.modules.
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
    return subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True, check=False)


def _packages() -> list[str]:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    return parser["importlinter"]["root_packages"].split()


def _copy(tmp_path: Path) -> Path:
    for package in _packages():
        shutil.copytree(
            REPO_ROOT / package,
            tmp_path / package,
            ignore=lambda directory, names: (
                [name for name in names if not name.endswith(".py") and not (Path(directory) / name).is_dir()]
                + ["__pycache__"]
            ),
        )
    shutil.copy2(CONFIG, tmp_path / ".importlinter")
    return tmp_path


def test_the_repository_keeps_its_layers():
    result = _lint(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_import_against_the_layers_fails(tmp_path):
    tree = _copy(tmp_path)
    assert _lint(tree).returncode == 0  # the copy alone passes: the import below is what breaks it
    (tree / "training_code" / "reaches_up.py").write_text("from stacks.config import AppConfig  # noqa: F401\n")
    result = _lint(tree)
    assert result.returncode == 1
    assert "training_code is not allowed to import stacks" in result.stdout
    assert "training_code.reaches_up -> stacks.config" in result.stdout
