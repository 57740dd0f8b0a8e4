"""Fixtures: the committed app synthesized once, and the local cloud started with it in this process once per
session: the client tests run the production code path (boto3 calls, routed by the local cloud)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local_runner.dataset import default_dataset
from pipeline_client import PipelineClient
from pipeline_client.in_process import open_local

from .committed_app import committed_cdk_out


@pytest.fixture(scope="session")
def cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return committed_cdk_out(tmp_path_factory)


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return default_dataset(tmp_path_factory.mktemp("data") / "breast_cancer.csv")


class _Session:
    """One local cloud for the session; opened again if a test opened another (one is open at a time)."""

    def __init__(self, state_dir: Path, cdk_out: Path):
        self.state_dir, self.cdk_out = state_dir, cdk_out
        self.client: PipelineClient | None = None

    def get(self) -> PipelineClient:
        if self.client is None or self.client.local.closed:
            self.client = open_local(state_dir=self.state_dir, cdk_out=self.cdk_out)
        return self.client


@pytest.fixture(scope="session")
def _session(tmp_path_factory: pytest.TempPathFactory, cdk_out: Path) -> Iterator[_Session]:
    session = _Session(tmp_path_factory.mktemp("local-cloud") / "state", cdk_out)
    yield session
    if session.client is not None:
        session.client.close()


@pytest.fixture
def local(_session: _Session) -> PipelineClient:
    """The pipeline client of the session's local cloud (in-process, deployed from the committed app)."""
    return _session.get()
