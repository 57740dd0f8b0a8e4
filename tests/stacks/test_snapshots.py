"""Snapshots of every stack per environment, for review. Asset hashes are masked so a snapshot
changes only when the template does, not when an asset's bytes do."""

from __future__ import annotations

import re
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.conftest import ENVIRONMENTS, SynthesizedApp

_ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def mask_asset_hashes(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: mask_asset_hashes(value) for key, value in node.items()}
    if isinstance(node, list):
        return [mask_asset_hashes(value) for value in node]
    if isinstance(node, str):
        return _ASSET_HASH.sub("<asset-hash>", node)
    return node


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_stack_templates_match_snapshots(
    synthesized: dict[str, SynthesizedApp], environment: str, json_snapshot: SnapshotAssertion
) -> None:
    app = synthesized[environment]
    for role, template in sorted(app.templates.items()):
        assert mask_asset_hashes(template) == json_snapshot(name=f"{environment}-{role}")


def test_masking_keeps_everything_but_hashes() -> None:
    digest = "a" * 64
    template = {"S3Key": f"{digest}.zip", "Image": [f"repo:{digest}"], "Count": 3}
    assert mask_asset_hashes(template) == {"S3Key": "<asset-hash>.zip", "Image": ["repo:<asset-hash>"], "Count": 3}
