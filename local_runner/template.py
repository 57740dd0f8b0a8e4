"""Load synthesized CloudFormation templates and resolve their tokens to local values.

Only the intrinsic functions CDK emits are supported: Ref, Fn::GetAtt, Fn::Join,
Fn::Sub, Fn::Select, Fn::Split, Fn::ImportValue, Fn::If/conditions, Fn::FindInMap
and the pseudo parameters. Physical names are deterministic so that a second run
finds the same buckets, functions and endpoints.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"


class TemplateError(Exception):
    """The synthesized template cannot be used locally."""


def _clean(value: str, limit: int, lower: bool = False) -> str:
    text = re.sub(r"[^A-Za-z0-9-]", "-", value)
    text = re.sub(r"-+", "-", text).strip("-")
    if lower:
        text = text.lower()
    return text[:limit].rstrip("-")


def _manifest(directory: Path) -> dict[str, Any] | None:
    path = directory / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _stage_directory(directory: Path, stage: str | None) -> Path:
    manifest = _manifest(directory)
    if manifest is None:
        return directory
    stages = {
        artifact["properties"].get("displayName", artifact_id): directory / artifact["properties"]["directoryName"]
        for artifact_id, artifact in manifest.get("artifacts", {}).items()
        if artifact.get("type") == "cdk:cloud-assembly"
    }
    if not stages:
        return directory
    if stage is None and len(stages) == 1:
        return next(iter(stages.values()))
    if stage not in stages:
        wanted = f"stage {stage!r} is not" if stage else "more than one stage is"
        raise TemplateError(f"{wanted} in {directory}: choose one of {', '.join(sorted(stages))}")
    return stages[stage]


def _stack_templates(directory: Path) -> list[tuple[str, Path]]:
    """(stack name, template) pairs: from the manifest when there is one, else every *.template.json."""
    manifest = _manifest(directory)
    if manifest is None:
        return [(p.name[: -len(".template.json")], p) for p in sorted(directory.glob("*.template.json"))]
    return [
        (artifact["properties"].get("stackName", artifact_id), directory / artifact["properties"]["templateFile"])
        for artifact_id, artifact in sorted(manifest.get("artifacts", {}).items())
        if artifact.get("type") == "aws:cloudformation:stack"
    ]


@dataclass
class Stack:
    name: str
    path: Path
    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})

    def of_type(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == type_name}


@dataclass
class Assembly:
    """All stack templates in a cloud assembly directory (cdk.out)."""

    directory: Path
    stacks: dict[str, Stack] = field(default_factory=dict)
    region: str = REGION
    account: str = ACCOUNT

    @classmethod
    def load(cls, directory: Path | str, stage: str | None = None) -> Assembly:
        """The stacks of a cloud assembly. The app synthesizes one CDK Stage per environment, each a nested
        assembly; `stage` picks one (e.g. SageMakerPipeline-dev), and may be left out when there is only one."""
        directory = Path(directory)
        if not directory.is_dir():
            raise TemplateError(f"no cloud assembly at {directory}: run `make synth` first")
        directory = _stage_directory(directory, stage)
        assembly = cls(directory)
        for name, path in _stack_templates(directory):
            assembly.stacks[name] = Stack(name, path, json.loads(path.read_text()))
        if not assembly.stacks:
            raise TemplateError(f"no stack templates in {directory}")
        return assembly

    @classmethod
    def from_templates(cls, templates: dict[str, dict[str, Any]], directory: Path | str = ".") -> Assembly:
        assembly = cls(Path(directory))
        for name, template in templates.items():
            assembly.stacks[name] = Stack(name, Path(directory) / f"{name}.template.json", template)
        return assembly

    def resolver(self, stack: Stack | str) -> Resolver:
        if isinstance(stack, str):
            stack = self.stacks[stack]
        return Resolver(self, stack)

    def state_machines(self) -> list[tuple[Stack, str, dict[str, Any]]]:
        found = []
        for stack in self.stacks.values():
            for logical_id, resource in stack.of_type("AWS::StepFunctions::StateMachine").items():
                found.append((stack, logical_id, resource))
        return found

    def export(self, name: str) -> Any:
        for stack in self.stacks.values():
            for output in stack.template.get("Outputs", {}).values():
                export = output.get("Export", {}).get("Name")
                if export is None:
                    continue
                resolver = self.resolver(stack)
                if resolver.resolve(export) == name:
                    return resolver.resolve(output["Value"])
        raise TemplateError(f"Fn::ImportValue: no stack in {self.directory} exports {name!r}")

    def physical_name(self, stack: Stack, logical_id: str) -> str:
        resource = stack.resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"{stack.name}: Ref to unknown resource {logical_id!r}")
        props = resource.get("Properties", {})
        type_name = resource["Type"]
        explicit_key = _NAME_PROPERTY.get(type_name)
        if explicit_key and isinstance(props.get(explicit_key), (str, dict, list)):
            return str(self.resolver(stack).resolve(props[explicit_key]))
        if type_name == "AWS::S3::Bucket":
            return _clean(f"{stack.name}-{logical_id}", 63, lower=True)
        if type_name == "AWS::ECR::Repository":
            return _clean(f"{stack.name}-{logical_id}", 200, lower=True)
        if type_name == "AWS::KMS::Key":
            digest = hashlib.sha256(f"{stack.name}/{logical_id}".encode()).hexdigest()
            return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"
        return _clean(f"{stack.name}-{logical_id}", 64)


_NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::IAM::Role": "RoleName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::SageMaker::ModelPackageGroup": "ModelPackageGroupName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Events::Rule": "Name",
}


class Resolver:
    """Resolves the CloudFormation tokens of one stack's template."""

    def __init__(self, assembly: Assembly, stack: Stack):
        self.assembly = assembly
        self.stack = stack

    # -- pseudo parameters and references ---------------------------------
    def pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": self.assembly.region,
            "AWS::AccountId": self.assembly.account,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": self.stack.name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.assembly.region}:{self.assembly.account}:stack/{self.stack.name}/local"
            ),
            "AWS::NoValue": None,
        }.get(name, "")

    def ref(self, logical_id: str) -> Any:
        if logical_id.startswith("AWS::"):
            return self.pseudo(logical_id)
        params = self.stack.template.get("Parameters", {})
        if logical_id in params:
            return params[logical_id].get("Default", "")
        resource = self.stack.resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"{self.stack.name}: Ref to unknown resource {logical_id!r}")
        name = self.assembly.physical_name(self.stack, logical_id)
        type_name = resource["Type"]
        region, account = self.assembly.region, self.assembly.account
        if type_name == "AWS::SNS::Topic":
            return f"arn:aws:sns:{region}:{account}:{name}"
        if type_name == "AWS::SQS::Queue":
            return f"https://sqs.{region}.amazonaws.com/{account}/{name}"
        if type_name == "AWS::StepFunctions::StateMachine":
            return f"arn:aws:states:{region}:{account}:stateMachine:{name}"
        if type_name == "AWS::SageMaker::ModelPackageGroup":
            return f"arn:aws:sagemaker:{region}:{account}:model-package-group/{name.lower()}"
        return name

    def get_att(self, logical_id: str, attribute: str) -> Any:
        resource = self.stack.resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"{self.stack.name}: Fn::GetAtt of unknown resource {logical_id!r}")
        name = self.assembly.physical_name(self.stack, logical_id)
        type_name = resource["Type"]
        region, account = self.assembly.region, self.assembly.account
        service = type_name.split("::")[1].lower()
        if attribute in ("Arn", "ModelPackageGroupArn", "StateMachineArn", "TopicArn"):
            return {
                "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
                "AWS::IAM::Role": f"arn:aws:iam::{account}:role/{name}",
                "AWS::Lambda::Function": f"arn:aws:lambda:{region}:{account}:function:{name}",
                "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{account}:{name}",
                "AWS::SNS::Topic": f"arn:aws:sns:{region}:{account}:{name}",
                "AWS::KMS::Key": f"arn:aws:kms:{region}:{account}:key/{name}",
                "AWS::ECR::Repository": f"arn:aws:ecr:{region}:{account}:repository/{name}",
                "AWS::StepFunctions::StateMachine": f"arn:aws:states:{region}:{account}:stateMachine:{name}",
                "AWS::Logs::LogGroup": f"arn:aws:logs:{region}:{account}:log-group:{name}:*",
                "AWS::SageMaker::ModelPackageGroup": (
                    f"arn:aws:sagemaker:{region}:{account}:model-package-group/{name.lower()}"
                ),
                "AWS::Events::Rule": f"arn:aws:events:{region}:{account}:rule/{name}",
                "AWS::CloudWatch::Alarm": f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
            }.get(type_name, f"arn:aws:{service}:{region}:{account}:{name}")
        if attribute == "RepositoryUri":
            return f"{account}.dkr.ecr.{region}.amazonaws.com/{name}"
        if attribute in ("DomainName", "RegionalDomainName"):
            return (
                f"{name}.s3.{region}.amazonaws.com" if attribute == "RegionalDomainName" else f"{name}.s3.amazonaws.com"
            )
        if attribute in ("Name", "QueueName", "TopicName", "KeyId", "RoleId"):
            return name
        if attribute == "QueueUrl":
            return f"https://sqs.{region}.amazonaws.com/{account}/{name}"
        return name

    # -- intrinsic functions ----------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = _INTRINSICS.get(key)
            if handler is not None:
                return handler(self, arg)
        return {k: self.resolve(v) for k, v in value.items()}

    def _join(self, arg: list) -> str:
        sep, parts = arg
        return self.resolve(sep).join(str(self.resolve(p)) for p in self.resolve(parts))

    def _get_att(self, arg: Any) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        logical_id, attribute = arg
        return self.get_att(logical_id, self.resolve(attribute))

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, str):
            text, variables = arg, {}
        else:
            text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}

        def repl(match: re.Match) -> str:
            token = match.group(1)
            if token.startswith("!"):
                return "${" + token[1:] + "}"
            if token in variables:
                return str(variables[token])
            if "." in token:
                logical_id, attribute = token.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self.ref(token))

        return re.sub(r"\$\{([^}]+)\}", repl, text)

    def _select(self, arg: list) -> Any:
        index, items = self.resolve(arg[0]), self.resolve(arg[1])
        return items[int(index)]

    def _split(self, arg: list) -> list:
        sep, text = self.resolve(arg[0]), self.resolve(arg[1])
        return str(text).split(sep)

    def _if(self, arg: list) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)

    def condition(self, name: str) -> bool:
        expr = self.stack.template.get("Conditions", {}).get(name)
        if expr is None:
            raise TemplateError(f"{self.stack.name}: unknown condition {name!r}")
        return bool(self._eval_condition(expr))

    def _eval_condition(self, expr: Any) -> Any:
        if isinstance(expr, dict) and len(expr) == 1:
            ((key, arg),) = expr.items()
            if key == "Fn::Equals":
                return self._eval_condition(arg[0]) == self._eval_condition(arg[1])
            if key == "Fn::Not":
                return not self._eval_condition(arg[0])
            if key == "Fn::And":
                return all(self._eval_condition(a) for a in arg)
            if key == "Fn::Or":
                return any(self._eval_condition(a) for a in arg)
            if key == "Condition":
                return self.condition(arg)
        return self.resolve(expr)

    def _find_in_map(self, arg: list) -> Any:
        name, top, second = (self.resolve(a) for a in arg)
        return self.stack.template["Mappings"][name][top][second]

    def _import(self, arg: Any) -> Any:
        return self.assembly.export(self.resolve(arg))


_INTRINSICS = {
    "Ref": lambda r, a: r.ref(a),
    "Fn::GetAtt": Resolver._get_att,
    "Fn::Join": Resolver._join,
    "Fn::Sub": Resolver._sub,
    "Fn::Select": Resolver._select,
    "Fn::Split": Resolver._split,
    "Fn::If": Resolver._if,
    "Fn::FindInMap": Resolver._find_in_map,
    "Fn::ImportValue": Resolver._import,
    "Fn::GetAZs": lambda r, a: [f"{r.assembly.region}{z}" for z in "abc"],
    "Fn::Base64": lambda r, a: r.resolve(a),
    "Condition": lambda r, a: r.condition(a),
}
