"""built_once: an expensive test input is built by the first worker that asks and reused by the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared_build import built_once


class _Factory:
    """The one method of pytest's TempPathFactory that built_once uses."""

    def __init__(self, base: Path) -> None:
        self.base = base

    def getbasetemp(self) -> Path:
        return self.base


def test_the_second_caller_reuses_the_first_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    builds: list[Path] = []

    def build(directory: Path) -> None:
        builds.append(directory)
        (directory / "artifact").write_text("built")

    first = built_once(_Factory(tmp_path / "popen-gw0"), "thing", build)
    second = built_once(_Factory(tmp_path / "popen-gw1"), "thing", build)
    assert first == second == tmp_path / "thing"  # in the run's directory, which both workers share
    assert builds == [first]
    assert (second / "artifact").read_text() == "built"


def test_a_failed_build_leaves_nothing_and_is_tried_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)

    def broken(directory: Path) -> None:
        (directory / "half").write_text("half")
        raise RuntimeError("synthesis failed")

    with pytest.raises(RuntimeError, match="synthesis failed"):
        built_once(_Factory(tmp_path), "thing", broken)
    assert not (tmp_path / "thing").exists()
    done = built_once(_Factory(tmp_path), "thing", lambda directory: (directory / "whole").write_text("whole"))
    assert sorted(p.name for p in done.iterdir()) == [".built", "whole"]
