"""Fixtures: moto for the AWS backend, the committed app synthesized once for the local backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_runner.dataset import default_dataset

from .committed_app import committed_cdk_out


@pytest.fixture(scope="session")
def cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return committed_cdk_out(tmp_path_factory)


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return default_dataset(tmp_path_factory.mktemp("data") / "breast_cancer.csv")
