"""cdk-nag 3.x policy gates, registered through CDK's Validations API."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aws_cdk import Acknowledgment, PolicyValidationPluginReport, Stack, Stage, Token, Validations
from aws_cdk.region_info import RegionInfo
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks
from constructs import IConstruct

_REGIONAL_ARN = re.compile(r"arn:<AWS::Partition>:([a-z0-9-]+):<AWS::Region>:")


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
    """Acknowledge granular finding ids (e.g. `AwsSolutions-IAM5[Action::s3:*]`) with their reasons.

    Ids are written as an environment-agnostic synth renders them (`arn:<AWS::Partition>:logs:<AWS::Region>:
    <AWS::AccountId>:...`); in a stack with an account and region they are rendered as that stack's findings show
    them (`arn:aws:logs:eu-west-1:111111111111:...`)."""
    render = renderer(scope)
    Validations.of(scope).acknowledge(
        *(Acknowledgment(id=render(finding), reason=reason) for finding, reason in findings)
    )


def rendered(scope: IConstruct, finding: str) -> str:
    """`finding` with the pseudo parameters its stack knows (account, region, partition) as literals."""
    return renderer(scope)(finding)


def renderer(scope: IConstruct) -> Callable[[str], str]:
    """`rendered` for many findings of one scope: the stack's environment is read once, since each read is a
    round trip to jsii's Node process (per finding, they were a third of a synthesis's round trips)."""
    try:
        stack = Stack.of(scope)
    except RuntimeError:  # an app or stage: no environment of its own
        return _unchanged
    account, region = stack.account, stack.region
    account = None if Token.is_unresolved(account) else account
    region = None if Token.is_unresolved(region) else region
    # CDK writes a regional ARN's partition as a literal too; a global one (iam::aws:policy/...) keeps it.
    partition = (RegionInfo.get(region).partition or "aws") if region is not None else None

    def render(finding: str) -> str:
        if account is not None:
            finding = finding.replace("<AWS::AccountId>", account)
        if region is not None:
            finding = _REGIONAL_ARN.sub(rf"arn:{partition}:\1:{region}:", finding)
        return finding

    return render


def _unchanged(finding: str) -> str:
    return finding
