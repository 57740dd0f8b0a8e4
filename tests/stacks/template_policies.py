"""Read the policies out of synthesized templates: intrinsics rendered to strings, cross-stack imports
followed to what they export, and Action/Resource matching done by moto's IAM policy evaluator.

moto's evaluator knows Action, NotAction, Resource wildcards and explicit Deny, but only StringEquals of
the condition operators: callers check the conditions a statement carries themselves, structurally.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult

from tests.conftest import SynthesizedApp

# Concrete pseudo parameters, so ARNs render as on an account; other references stay symbolic.
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012"}
REGION, ACCOUNT = PSEUDO["AWS::Region"], PSEUDO["AWS::AccountId"]
_SUB = re.compile(r"\$\{([^}!][^}]*)\}")


def ref(logical_id: str) -> str:
    return f"<{logical_id}>"


def att(logical_id: str, attribute: str = "Arn") -> str:
    return f"<{logical_id}.{attribute}>"


@dataclass(frozen=True)
class Located:
    """A resource and the stack role ("storage", "pipeline", ...) whose template holds it."""

    role: str
    logical_id: str
    resource: dict


# For linters that parse ARNs: what a reference to a resource of each type resolves to on AWS.
_R, _A = f"{PSEUDO['AWS::Region']}:{PSEUDO['AWS::AccountId']}", PSEUDO["AWS::AccountId"]
CONCRETE = {
    ("AWS::S3::Bucket", "Ref"): "{n}",
    ("AWS::S3::Bucket", "Arn"): "arn:aws:s3:::{n}",
    ("AWS::KMS::Key", "Arn"): f"arn:aws:kms:{_R}:key/{{n}}",
    ("AWS::SQS::Queue", "Arn"): f"arn:aws:sqs:{_R}:{{n}}",
    ("AWS::SNS::Topic", "Ref"): f"arn:aws:sns:{_R}:{{n}}",
    ("AWS::IAM::Role", "Arn"): f"arn:aws:iam::{_A}:role/{{n}}",
    ("AWS::Lambda::Function", "Arn"): f"arn:aws:lambda:{_R}:function:{{n}}",
    ("AWS::StepFunctions::StateMachine", "Ref"): f"arn:aws:states:{_R}:stateMachine:{{n}}",
    ("AWS::StepFunctions::StateMachine", "Name"): "{n}",
    ("AWS::ECR::Repository", "Arn"): f"arn:aws:ecr:{_R}:repository/{{n}}",
    ("AWS::Events::Rule", "Arn"): f"arn:aws:events:{_R}:rule/{{n}}",
    ("AWS::CloudWatch::Alarm", "Ref"): "{n}",
    ("AWS::CloudWatch::Alarm", "Arn"): f"arn:aws:cloudwatch:{_R}:alarm:{{n}}",
    ("AWS::Logs::LogGroup", "Arn"): f"arn:aws:logs:{_R}:log-group:{{n}}:*",
    ("AWS::SageMaker::ModelPackageGroup", "ModelPackageGroupArn"): f"arn:aws:sagemaker:{_R}:model-package-group/{{n}}",
}


class Templates:
    def __init__(self, app: SynthesizedApp, *, concrete: bool = False) -> None:
        """`concrete`: references render as the ARNs and names AWS would give (lower-case logical ids)."""
        self.app = app
        self.concrete = concrete
        self.exports: dict[str, tuple[str, Any]] = {}
        for role, template in app.templates.items():
            for output in template.get("Outputs", {}).values():
                if "Export" in output:
                    self.exports[self.render(output["Export"]["Name"], role)] = (role, output["Value"])

    def render(self, value: Any, role: str) -> Any:
        """Intrinsics to strings: Ref X -> <X>, GetAtt X.Arn -> <X.Arn>, Join and Sub concatenated, imports
        resolved to the exporting stack's value (so a key used across stacks renders as <Key.Arn>)."""
        if isinstance(value, list):
            return [self.render(v, role) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (name, arg), *_ = value.items()
            if name == "Ref":
                return PSEUDO.get(arg, self._reference(arg, "Ref"))
            if name == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._reference(logical_id, attribute)
            if name == "Fn::Join":
                return arg[0].join(str(self.render(part, role)) for part in arg[1])
            if name == "Fn::ImportValue":
                exporter, exported = self.exports[self.render(arg, role)]
                return self.render(exported, exporter)
            if name == "Fn::Sub" and isinstance(arg, str):
                return _SUB.sub(lambda m: PSEUDO.get(m.group(1), f"<{m.group(1)}>"), arg)
            if name == "Fn::Select":
                items = self.render(arg[1], role)
                # A part of a reference known only at deploy time stays a token.
                return items[int(arg[0])] if int(arg[0]) < len(items) else f"<{items[0]}[{arg[0]}]>"
            if name == "Fn::Split":
                return str(self.render(arg[1], role)).split(arg[0])
        return {k: self.render(v, role) for k, v in value.items()}

    def _reference(self, logical_id: str, attribute: str) -> str:
        symbolic = ref(logical_id) if attribute == "Ref" else att(logical_id, attribute)
        if not self.concrete:
            return symbolic
        located = self.find(symbolic)
        pattern = CONCRETE.get((located.resource["Type"], attribute)) if located else None
        return pattern.format(n=logical_id.lower()) if pattern else symbolic

    def resources(self, resource_type: str | None = None) -> Iterator[Located]:
        for role, template in self.app.templates.items():
            for logical_id, resource in template["Resources"].items():
                if resource_type is None or resource["Type"] == resource_type:
                    yield Located(role, logical_id, resource)

    def find(self, token: str) -> Located | None:
        """The resource a rendered <X> or <X.Arn> token names."""
        logical_id = token.strip("<>").split(".", 1)[0]
        for located in self.resources():
            if located.logical_id == logical_id:
                return located
        return None

    def props(self, located: Located) -> dict:
        return self.render(located.resource.get("Properties", {}), located.role)

    def identity_statements(self) -> dict[str, list[dict]]:
        """Role logical id -> every statement of its inline, attached and managed policies, rendered."""
        found: dict[str, list[dict]] = {}
        for located in self.resources():
            kind, props = located.resource["Type"], self.props(located)
            if kind == "AWS::IAM::Role":
                for policy in props.get("Policies", []):
                    found.setdefault(located.logical_id, []).extend(policy["PolicyDocument"]["Statement"])
                found.setdefault(located.logical_id, [])
            elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                for role_token in props.get("Roles", []):
                    found.setdefault(role_token.strip("<>"), []).extend(props["PolicyDocument"]["Statement"])
        return found


def allows(statements: list[dict], action: str, resource: str) -> bool:
    """Action and Resource matching by moto's evaluator; conditions are the caller's to check."""
    bare = [{k: v for k, v in s.items() if k != "Condition"} for s in statements]
    verdict = IAMPolicy(json.dumps({"Version": "2012-10-17", "Statement": bare})).is_action_permitted(action, resource)
    return verdict == PermissionResult.PERMITTED


def allowing(statements: list[dict], action: str, resource: str) -> list[dict]:
    """The Allow statements that grant `action` on `resource` (each judged alone)."""
    return [s for s in statements if s["Effect"] == "Allow" and allows([s], action, resource)]


def service_principals(statement: dict) -> list[str]:
    principal = statement.get("Principal", {})
    services = principal.get("Service", []) if isinstance(principal, dict) else []
    return services if isinstance(services, list) else [services]


def condition_keys(statement: dict) -> dict[str, Any]:
    """Condition key -> value, whatever the operator."""
    return {key: value for block in statement.get("Condition", {}).values() for key, value in block.items()}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]
