"""User-facing errors and the SageMaker failure file (stdlib only)."""

from __future__ import annotations

import os
import traceback
from pathlib import Path


class UserError(Exception):
    """A problem with the job's input (data, hyperparameters, options): the message says what to fix."""


class Interrupted(Exception):
    """Raised when SIGTERM arrives during training, after the last completed epoch is checkpointed."""


def write_failure(path: Path, exc: BaseException) -> str:
    """Write the failure reason (first line actionable) and return it."""
    if isinstance(exc, UserError | Interrupted):
        reason = str(exc)
    else:
        reason = f"internal error: {type(exc).__name__}: {exc}\n\n" + "".join(
            traceback.format_exception(exc)
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(reason + ("" if reason.endswith("\n") else "\n"), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
    return reason
