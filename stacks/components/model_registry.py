"""The model package group: the registry of every evaluated model, kept whatever happens to the stacks."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct


class ModelRegistry(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, group_name: str) -> None:
        super().__init__(scope, construct_id)
        # CloudFormation requires this name; it derives from the stack name, so environments never collide.
        self.group_name = group_name
        group = sagemaker.CfnModelPackageGroup(
            self,
            "Group",
            model_package_group_name=group_name,
            model_package_group_description="Evaluated models of the ML pipeline, with their metrics",
        )
        group.apply_removal_policy(RemovalPolicy.RETAIN)
        self.group_arn = group.attr_model_package_group_arn
