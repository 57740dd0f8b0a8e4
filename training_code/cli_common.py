"""Shared glue for the processing/evaluation entry points: logging and the failure file."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from .errors import UserError, write_failure
from .paths import base_dir


def run_job(name: str, body: Callable[[], object]) -> int:
    """Run ``body``; any error goes to ``{base}/output/failure`` with a non-zero exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        body()
        return 0
    except SystemExit:
        raise
    except BaseException as exc:
        reason = write_failure(base_dir() / "output" / "failure", exc)
        print(f"{name} failed: {reason.splitlines()[0]}", file=sys.stderr, flush=True)
        if isinstance(exc, KeyboardInterrupt):
            raise
        return 2 if isinstance(exc, UserError) else 1
