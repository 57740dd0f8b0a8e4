"""The prepare-run function's directory on sys.path, as in Lambda, and settings from the real configuration."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import prepare_run_testkit  # noqa: F401  (puts the function's directory on sys.path)
from run_planning.settings import Settings

from stacks.config import load_config, run_defaults


@pytest.fixture(params=["dev", "prod"])
def settings(request: pytest.FixtureRequest) -> Settings:
    return Settings("data-bucket", "artifacts-bucket", "pipeline-endpoint", run_defaults(load_config(request.param)))


@pytest.fixture
def dev_settings() -> Settings:
    return Settings("data-bucket", "artifacts-bucket", "pipeline-endpoint", run_defaults(load_config("dev")))
