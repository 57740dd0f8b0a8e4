"""cdk-nag 3.x policy gates, registered through CDK's Validations API."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stage, Validations
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks
from constructs import IConstruct


def add_policy_gates(stage: Stage) -> None:
    """An unacknowledged finding of either pack fails synthesis of the stage (an App is a Stage too)."""
    Validations.of(stage).add_plugins(AwsSolutionsChecks(stage), NIST80053R5Checks(stage))


def acknowledge(scope: IConstruct, *findings: tuple[str, str]) -> None:
    """Acknowledge granular finding ids (e.g. `AwsSolutions-IAM5[Action::s3:*]`) with their reasons."""
    Validations.of(scope).acknowledge(*(Acknowledgment(id=finding, reason=reason) for finding, reason in findings))
