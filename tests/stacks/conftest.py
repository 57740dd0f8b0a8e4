"""The stack tests render requests against plans made by the real prepare-run code: import it as Lambda does."""

from __future__ import annotations

import sys
from pathlib import Path

PREPARE_RUN = Path(__file__).resolve().parents[2] / "lambdas" / "prepare_run"
if str(PREPARE_RUN) not in sys.path:
    sys.path.insert(0, str(PREPARE_RUN))
