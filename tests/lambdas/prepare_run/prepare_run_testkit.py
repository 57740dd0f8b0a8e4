"""Shared by the prepare-run tests (a uniquely named module: other test folders have a conftest too)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
FUNCTION_DIR = REPO_ROOT / "lambdas" / "prepare_run"
for path in (str(FUNCTION_DIR), str(REPO_ROOT)):
    if path not in sys.path:
        sys.path.insert(0, path)

START = "2026-11-26T04:15:00.123Z"
