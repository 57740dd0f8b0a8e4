"""Build an expensive test input once per test run, shared by every pytest-xdist worker (xdist's own recipe:
a lock in the temporary directory all workers of a run share)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

_DONE = ".built"


def run_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary directory of this run: its workers' directories are inside it (popen-gw0, ...)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """`build(directory)` by the first worker that asks; the others wait for it and reuse the directory. A
    build that raised leaves nothing behind, so the next worker that asks tries again (and reports the error)."""
    root = run_directory(tmp_path_factory)
    directory = root / name
    with FileLock(root / f"{name}.lock"):
        if not (directory / _DONE).exists():
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir()
            try:
                build(directory)
            except BaseException:
                shutil.rmtree(directory, ignore_errors=True)
                raise
            (directory / _DONE).touch()
    return directory
