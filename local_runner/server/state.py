"""The running server's record in the state directory: `.local/server.json` (pid, its start time, port, URL,
environments). Written once the server answers, removed when it stops; a record whose process is gone is
stale, and so is one whose pid now names another process (after a reboot, which leaves the record behind)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..sagemaker import lifetime

FILE = "server.json"
LOG = "server.log"


def path(state_dir: Path) -> Path:
    return state_dir / FILE


def write(state_dir: Path, *, pid: int, **record: Any) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    temporary = path(state_dir).with_suffix(".tmp")
    temporary.write_text(json.dumps({"pid": pid, "start": lifetime.start_ticks(pid), **record}, indent=1))
    temporary.replace(path(state_dir))


def read(state_dir: Path) -> dict[str, Any] | None:
    """The record of a server whose process still exists, else None (and a stale record is removed)."""
    try:
        record = json.loads(path(state_dir).read_text())
    except (OSError, ValueError):
        return None
    if not alive(record.get("pid"), record.get("start")):
        clear(state_dir)
        return None
    return record


def clear(state_dir: Path) -> None:
    path(state_dir).unlink(missing_ok=True)


def alive(pid: int | None, start: int | None = None) -> bool:
    """The server still runs: `pid` is a live process, and the one that started at `start` (clock ticks since
    boot; a record written before they were recorded has none). One that has exited is gone though not reaped
    yet: `make up` left it to PID 1, which may reap late (2 s on some VMs), or never (a container without an
    init that reaps)."""
    if not pid or not lifetime.is_running(pid):
        return False
    return start is None or lifetime.start_ticks(pid) == start
