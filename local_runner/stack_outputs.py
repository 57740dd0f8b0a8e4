"""CloudFormation's DescribeStacks for the stacks deployed into the local cloud: their Outputs, resolved.

Clients find the pipeline's resources through the stacks' outputs on AWS; the local cloud answers the same call,
so one client code path serves both. The stacks are not created in moto's CloudFormation: that would import
the parsers of every moto service (seconds per run) to build resources the deployer already made.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .template import Assembly
from .validation import ServiceError, shape_response, validate_request

SERVED = ("DescribeStacks",)


class LocalStacks:
    """The deployed stacks by name, as DescribeStacks returns them."""

    def __init__(self, region: str, account: str):
        self.region, self.account = region, account
        self.stacks: dict[str, dict[str, Any]] = {}

    def deploy(self, assembly: Assembly) -> None:
        now = datetime.now(UTC)
        for stack in assembly.stacks.values():
            resolver = assembly.resolver(stack)
            outputs = [
                {
                    "OutputKey": key,
                    "OutputValue": str(resolver.resolve(output["Value"])),
                    **({"Description": output["Description"]} if "Description" in output else {}),
                }
                for key, output in stack.template.get("Outputs", {}).items()
            ]
            created = self.stacks.get(stack.name, {}).get("CreationTime", now)
            self.stacks[stack.name] = {
                "StackName": stack.name,
                "StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{stack.name}/local",
                "CreationTime": created,
                "LastUpdatedTime": now,
                "StackStatus": "UPDATE_COMPLETE" if created != now else "CREATE_COMPLETE",
                "Outputs": outputs,
            }

    def handle(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation not in SERVED:
            raise ServiceError(
                "UnknownOperationException",
                f"The local cloud's CloudFormation serves {', '.join(SERVED)} only, not {operation}",
                400,
            )
        validate_request("cloudformation", operation, params)
        name = params.get("StackName")
        if name is None:
            stacks = list(self.stacks.values())
        else:
            found = self.stacks.get(name) or next((s for s in self.stacks.values() if s["StackId"] == name), None)
            if found is None:  # AWS's own answer for an unknown stack
                raise ServiceError("ValidationError", f"Stack with id {name} does not exist", 400)
            stacks = [found]
        return shape_response("cloudformation", operation, {"Stacks": stacks})
