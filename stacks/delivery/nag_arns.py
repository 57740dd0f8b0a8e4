"""ARN prefixes as cdk-nag prints them in finding ids, for the stack's environment.

An environment-agnostic stack renders `arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>`; a stack with an
account and region in its configuration renders literals (`arn:aws:logs:eu-west-1:111111111111`), so an
acknowledgment written with the placeholders would not match it.
"""

from __future__ import annotations

from aws_cdk import Stack, Token
from aws_cdk.region_info import RegionInfo


def account(stack: Stack) -> str:
    return "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account


def arn_prefix(stack: Stack, service: str) -> str:
    """`arn:PARTITION:SERVICE:REGION:ACCOUNT` of this stack, as a finding id shows it."""
    if Token.is_unresolved(stack.region):
        return f"arn:<AWS::Partition>:{service}:<AWS::Region>:{account(stack)}"
    partition = RegionInfo.get(stack.region).partition or "aws"
    return f"arn:{partition}:{service}:{stack.region}:{account(stack)}"
