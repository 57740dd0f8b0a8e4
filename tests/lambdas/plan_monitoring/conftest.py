"""The monitoring planner's directory on sys.path (as in Lambda) and a moto world with a serving endpoint."""

from __future__ import annotations

import sys
from pathlib import Path

FUNCTION_DIR = Path(__file__).resolve().parents[3] / "lambdas" / "plan_monitoring"
for path in (str(FUNCTION_DIR), str(Path(__file__).resolve().parent)):
    if path not in sys.path:
        sys.path.insert(0, path)
