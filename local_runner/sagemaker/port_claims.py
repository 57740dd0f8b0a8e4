"""Endpoint ports claimed across processes: one file per port, in a directory all local clouds of a user share.

`endpoints.stable_port` probes whether a port is free to bind, but an endpoint's front binds its recorded port
only when its fleet is healthy. Endpoints of one cloud skip each other's recorded ports; a cloud in another
process (a second pytest worker, another checkout's `make up`) cannot see those, and could pick the same port
in between. So a picked port is claimed here, atomically (O_EXCL), in the name of its cloud's store.

An owner is the path of a store's state file, or, for a store kept in memory, a name of its own. A claim holds
while the process that made it lives (the port is not recorded yet, or is being served), or while the owner's
state file still records the port (an endpoint outlives the runner that created it). Otherwise it is stale:
the endpoint was deleted, or `make clean-local` removed the state. The next claimant takes a stale claim over.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from . import lifetime

CLAIMS = Path(tempfile.gettempdir()) / f"sagemaker-local-ports-{os.getuid()}"

Owner = Path | str  # a store's state file, or the name of a store kept in memory


def claim(port: int, owner: Owner) -> bool:
    """Claim `port` for `owner`; False when another owner's claim on it holds."""
    CLAIMS.mkdir(parents=True, exist_ok=True)
    path = CLAIMS / str(port)
    body = json.dumps({"pid": os.getpid(), "owner": str(owner), "file": isinstance(owner, Path)}).encode()
    for _ in range(2):  # a stale claim is removed once, then claimed as if it had never been
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if held(port, against=owner):
                return False
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            continue
        with os.fdopen(descriptor, "wb") as file:
            file.write(body)
        return True
    return False  # another process took the stale claim over between our two attempts


def held(port: int, *, against: Owner) -> bool:
    """Whether a claim on `port` by an owner other than `against` still holds."""
    found = _read(CLAIMS / str(port))
    if not found or found.get("owner") == str(against):
        return False
    pid = found.get("pid")
    if isinstance(pid, int) and lifetime.is_running(pid):
        return True
    return bool(found.get("file")) and _records(Path(found["owner"]), port)


def release(port: int, owner: Owner) -> None:
    """Drop `owner`'s claim on `port` (DeleteEndpoint); another owner's claim stays."""
    path = CLAIMS / str(port)
    found = _read(path)
    if found and found.get("owner") == str(owner):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _read(path: Path) -> dict | None:
    try:
        found = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # unreadable (a writer that died mid-write): a claim that does not hold
    return found if isinstance(found, dict) else {}


def _records(state_file: Path, port: int) -> bool:
    try:
        records = json.loads(state_file.read_text()).get("endpoints", {})
    except (OSError, ValueError, AttributeError):
        return False
    return any(isinstance(record, dict) and record.get("port") == port for record in records.values())
