"""cdk-nag 3.x policy gates, registered through CDK's Validations API."""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, PolicyValidationPluginReport, Stage, Validations
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks
from constructs import IConstruct


class _OwnStageOnly:
    """CDK hands every validation plugin the whole app (`appConstruct`), and a pack walks what it is handed: a
    pack on each of N stages would check every stage, N times in all (each finding reported N times, and the
    walk is most of the gates' cost). Here a stage's pack checks that stage alone."""

    def __init__(self, stage: Stage) -> None:
        super().__init__(stage)
        self._stage = stage

    def validate(self, context: Any) -> PolicyValidationPluginReport:
        return self.validate_scope(self._stage)


class _AwsSolutions(_OwnStageOnly, AwsSolutionsChecks):
    pass


class _Nist80053R5(_OwnStageOnly, NIST80053R5Checks):
    pass


def add_policy_gates(stage: Stage) -> None:
    """An unacknowledged finding of either pack fails synthesis of the stage (an App is a Stage too)."""
    Validations.of(stage).add_plugins(_AwsSolutions(stage), _Nist80053R5(stage))


def acknowledge(scope: IConstruct, *findings: tuple[str, str]) -> None:
    """Acknowledge granular finding ids (e.g. `AwsSolutions-IAM5[Action::s3:*]`) with their reasons."""
    Validations.of(scope).acknowledge(*(Acknowledgment(id=finding, reason=reason) for finding, reason in findings))
