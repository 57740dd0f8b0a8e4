"""The training/inference image: built from training_code/ by `cdk deploy`, published to our own repository.

`DockerImageAsset` builds and pushes to the CDK bootstrap repository at deploy time (synth needs no
Docker); `ECRDeployment` then copies it into the project's KMS-encrypted, immutable-tag repository under
the asset hash as its tag, so the tag is content-addressed and never reused.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from cdk_ecr_deployment import DockerImageName, ECRDeployment
from constructs import Construct

TRAINING_CODE = Path(__file__).resolve().parents[2] / "training_code"


class TrainingImage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, repository: ecr.IRepository) -> None:
        super().__init__(scope, construct_id)
        asset = ecr_assets.DockerImageAsset(
            self,
            "Build",
            directory=str(TRAINING_CODE),
            platform=ecr_assets.Platform.LINUX_AMD64,
            exclude=["**/__pycache__", "**/*.pyc"],
        )
        self.tag = asset.asset_hash
        self.image_uri = f"{repository.repository_uri}:{self.tag}"
        self.publish = ECRDeployment(
            self,
            "Publish",
            src=DockerImageName(asset.image_uri),
            dest=DockerImageName(self.image_uri),
        )
