"""ARN prefixes as cdk-nag prints them in finding ids, for the stack's environment (stacks/nag.py's `rendered`:
an environment-agnostic stack shows `arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>`, a stack with an
account and region the literals, `arn:aws:logs:eu-west-1:111111111111`)."""

from __future__ import annotations

from aws_cdk import Stack

from stacks.nag import rendered


def account(stack: Stack) -> str:
    return rendered(stack, "<AWS::AccountId>")


def arn_prefix(stack: Stack, service: str) -> str:
    """`arn:PARTITION:SERVICE:REGION:ACCOUNT` of this stack, as a finding id shows it."""
    return rendered(stack, f"arn:<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>")
