"""The permissions a cloud assembly grants, read from its templates: each role's identity policies, each
resource's policy (key, topic, queue, bucket, function) and which key encrypts which destination.

Every statement keeps where it came from (`Origin`), so a denial can be traced to a template and a
test can remove one statement at a time (`without`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ..template import Assembly

_LAMBDA_PERMISSION = "AWS::Lambda::Permission"


@dataclass(frozen=True)
class Origin:
    """One statement of one policy document in a template."""

    stack: str
    logical_id: str
    index: int  # position in the document's Statement list
    holder: str  # the role or resource ARN the document applies to

    def __str__(self) -> str:
        return f"{self.stack}/{self.logical_id} statement {self.index}"


@dataclass
class Document:
    origin_stack: str
    origin_id: str
    statements: list[dict[str, Any]]

    def as_policy(self) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": self.statements}


@dataclass
class PolicyStore:
    account: str
    region: str
    identity: dict[str, list[Document]] = field(default_factory=dict)  # role ARN -> its policies
    managed: dict[str, list[str]] = field(default_factory=dict)  # role ARN -> AWS-managed policy ARNs
    resource: dict[str, list[Document]] = field(default_factory=dict)  # resource ARN -> its policies
    encryption: dict[str, str] = field(default_factory=dict)  # bucket/topic/queue/log group ARN -> key ARN
    names: dict[str, str] = field(default_factory=dict)  # role or resource ARN -> "stack/logical id"

    # -- reading ---------------------------------------------------------------
    @classmethod
    def from_assembly(cls, assembly: Assembly) -> PolicyStore:
        return cls.from_assemblies([assembly])

    @classmethod
    def from_assemblies(cls, assemblies: list[Assembly]) -> PolicyStore:
        """The policies of every stack deployed into one account (a later deployment adds its stacks)."""
        store = cls(account=assemblies[0].account, region=assemblies[0].region)
        for assembly in assemblies:
            store._read(assembly)
        return store

    def _read(self, assembly: Assembly) -> None:
        store = self
        role_arns: dict[str, str] = {}  # role name (Ref) -> ARN
        for stack in assembly.stacks.values():
            resolver = assembly.resolver(stack)
            for logical_id, resource in stack.of_type("AWS::IAM::Role").items():
                arn = resolver.get_att(logical_id, "Arn")
                role_arns[resolver.ref(logical_id)] = arn
                store.names[arn] = f"{stack.name}/{logical_id}"
                store.identity.setdefault(arn, [])
                props = resolver.resolve(resource.get("Properties", {}))
                for policy in props.get("Policies", []):
                    store.identity[arn].append(Document(stack.name, logical_id, _statements(policy["PolicyDocument"])))
                store.managed[arn] = list(props.get("ManagedPolicyArns", []))
        for stack in assembly.stacks.values():
            resolver = assembly.resolver(stack)
            for type_name in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                for logical_id, resource in stack.of_type(type_name).items():
                    props = resolver.resolve(resource.get("Properties", {}))
                    for role in props.get("Roles", []):
                        arn = role_arns.get(role, role if str(role).startswith("arn:") else None)
                        if arn is not None:
                            document = Document(stack.name, logical_id, _statements(props["PolicyDocument"]))
                            store.identity.setdefault(arn, []).append(document)
            store._read_resources(assembly, stack)

    def _read_resources(self, assembly: Assembly, stack) -> None:
        resolver = assembly.resolver(stack)

        def add(arn: str, logical_id: str, document: dict[str, Any]) -> None:
            self.resource.setdefault(arn, []).append(Document(stack.name, logical_id, _statements(document)))

        for logical_id, resource in stack.of_type("AWS::KMS::Key").items():
            arn = resolver.get_att(logical_id, "Arn")
            self.names[arn] = f"{stack.name}/{logical_id}"
            add(arn, logical_id, resolver.resolve(resource["Properties"]["KeyPolicy"]))
        for logical_id, resource in stack.of_type("AWS::SNS::TopicPolicy").items():
            props = resolver.resolve(resource["Properties"])
            for topic in props["Topics"]:
                add(topic, logical_id, props["PolicyDocument"])
        for logical_id, resource in stack.of_type("AWS::SQS::QueuePolicy").items():
            props = resolver.resolve(resource["Properties"])
            for url in props["Queues"]:
                add(self.queue_arn(url), logical_id, props["PolicyDocument"])
        for logical_id, resource in stack.of_type("AWS::S3::BucketPolicy").items():
            props = resolver.resolve(resource["Properties"])
            add(f"arn:aws:s3:::{props['Bucket']}", logical_id, props["PolicyDocument"])
        for logical_id, resource in stack.of_type(_LAMBDA_PERMISSION).items():
            add(*_lambda_permission(resolver.resolve(resource["Properties"]), logical_id, self))
        for logical_id, resource in stack.of_type("AWS::S3::Bucket").items():
            props = resolver.resolve(resource.get("Properties", {}))
            rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
            default = rules[0].get("ServerSideEncryptionByDefault", {}) if rules else {}
            if default.get("SSEAlgorithm") == "aws:kms" and default.get("KMSMasterKeyID"):
                self.encryption[resolver.get_att(logical_id, "Arn")] = self.key_arn(default["KMSMasterKeyID"])
        for type_name, key_property in (
            ("AWS::SNS::Topic", "KmsMasterKeyId"),
            ("AWS::SQS::Queue", "KmsMasterKeyId"),
            ("AWS::Logs::LogGroup", "KmsKeyId"),
        ):
            for logical_id, resource in stack.of_type(type_name).items():
                props = resolver.resolve(resource.get("Properties", {}))
                if props.get(key_property):
                    arn = resolver.get_att(logical_id, "Arn")
                    self.encryption[arn.removesuffix(":*")] = self.key_arn(props[key_property])

    # -- naming -------------------------------------------------------------------
    def key_arn(self, key: str) -> str:
        return key if key.startswith("arn:") else f"arn:aws:kms:{self.region}:{self.account}:key/{key}"

    def queue_arn(self, url: str) -> str:
        return url if url.startswith("arn:") else f"arn:aws:sqs:{self.region}:{self.account}:{url.rsplit('/', 1)[-1]}"

    def describe(self, arn: str) -> str:
        name = self.names.get(arn)
        return f"{arn} ({name})" if name else arn

    # -- statements ------------------------------------------------------------------
    def origins(self) -> list[Origin]:
        """Every statement of every identity and resource policy."""
        found = []
        for holder, documents in [*self.identity.items(), *self.resource.items()]:
            for document in documents:
                found += [
                    Origin(document.origin_stack, document.origin_id, i, holder)
                    for i in range(len(document.statements))
                ]
        return found

    def without(self, origin: Origin) -> PolicyStore:
        """A copy with one statement removed (for mutation tests)."""
        clone = copy.deepcopy(self)
        for documents in (clone.identity.get(origin.holder, []), clone.resource.get(origin.holder, [])):
            for document in documents:
                if (document.origin_stack, document.origin_id) == (origin.stack, origin.logical_id):
                    del document.statements[origin.index]
                    return clone
        raise KeyError(origin)

    def statement(self, origin: Origin) -> dict[str, Any]:
        for document in [*self.identity.get(origin.holder, []), *self.resource.get(origin.holder, [])]:
            if (document.origin_stack, document.origin_id) == (origin.stack, origin.logical_id):
                return document.statements[origin.index]
        raise KeyError(origin)


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _lambda_permission(props: dict[str, Any], logical_id: str, store: PolicyStore) -> tuple[str, str, dict]:
    """AWS::Lambda::Permission as the statement Lambda adds to the function's resource policy."""
    function = props["FunctionName"]
    if not function.startswith("arn:"):
        function = f"arn:aws:lambda:{store.region}:{store.account}:function:{function}"
    principal = props["Principal"]
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Action": props["Action"],
        "Resource": function,
        "Principal": {"Service": principal} if principal.endswith(".amazonaws.com") else {"AWS": principal},
    }
    conditions: dict[str, dict[str, str]] = {}
    if props.get("SourceArn"):
        conditions.setdefault("ArnLike", {})["AWS:SourceArn"] = props["SourceArn"]
    if props.get("SourceAccount"):
        conditions.setdefault("StringEquals", {})["AWS:SourceAccount"] = props["SourceAccount"]
    if conditions:
        statement["Condition"] = conditions
    return function, logical_id, {"Statement": [statement]}
