"""checkov acknowledgments, kept beside cdk-nag's: each check id with its reason, in the resource's metadata.

checkov reads `Metadata.checkov.skip: [{id, comment}]` on a CloudFormation resource and reports the check
as skipped with that comment; tests/stacks/test_checkov.py fails on any failed check and any skip
without a comment.
"""

from __future__ import annotations

from aws_cdk import CfnResource
from constructs import IConstruct


def skip_checkov(scope: IConstruct, *checks: tuple[str, str]) -> None:
    """Acknowledge `(check id, reason)` pairs on `scope`'s CloudFormation resource (itself or its default child)."""
    resource = scope if isinstance(scope, CfnResource) else scope.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{scope.node.path} has no CloudFormation resource to carry checkov acknowledgments")
    current = resource.get_metadata("checkov") or {"skip": []}
    added = [{"id": check, "comment": reason} for check, reason in checks]
    resource.add_metadata("checkov", {"skip": [*current["skip"], *added]})
