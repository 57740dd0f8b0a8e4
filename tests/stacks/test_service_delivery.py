"""Every AWS service that delivers to one of our destinations may do so: derived from the templates.

Each (service principal, destination) pair comes from what the templates wire up: an EventBridge rule's
targets and dead-letter queues, a CloudWatch alarm's actions, a log group's key, a bucket's access log
target. For each pair the destination's resource policy must let the service in, scoped to our own
sources (aws:SourceArn / aws:SourceAccount), and the KMS key that encrypts it must let the service use it.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from fnmatch import fnmatchcase

import pytest

from tests.conftest import SynthesizedApp
from tests.stacks.template_policies import (
    ACCOUNT,
    REGION,
    Located,
    Templates,
    allowing,
    as_list,
    condition_keys,
    service_principals,
)

# What each destination type needs from its key and its resource policy, per AWS's guides.
KEY_ACTIONS = {
    "AWS::SQS::Queue": ("kms:GenerateDataKey", "kms:Decrypt"),
    "AWS::SNS::Topic": ("kms:GenerateDataKey", "kms:Decrypt"),
    "AWS::Logs::LogGroup": ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:GenerateDataKey"),
}
SEND_ACTION = {"AWS::SQS::Queue": "sqs:SendMessage", "AWS::SNS::Topic": "sns:Publish"}
KEY_PROPERTY = {
    "AWS::SQS::Queue": "KmsMasterKeyId",
    "AWS::SNS::Topic": "KmsMasterKeyId",
    "AWS::Logs::LogGroup": "KmsKeyId",
}
LOGS = f"logs.{REGION}.amazonaws.com"
SOURCE_KEYS = ("aws:SourceArn", "aws:SourceAccount")


@dataclass(frozen=True)
class Delivery:
    service: str
    destination: Located
    source_arn: str  # the ARN the service acts for, as rendered


def deliveries(t: Templates) -> list[Delivery]:
    found = []
    for rule in t.resources("AWS::Events::Rule"):
        rule_arn = f"<{rule.logical_id}.Arn>"
        for target in t.props(rule).get("Targets", []):
            # A target with a role is reached with that role; one without, and every DLQ, by EventBridge itself.
            arns = [target.get("DeadLetterConfig", {}).get("Arn")] + ([] if "RoleArn" in target else [target["Arn"]])
            for arn in filter(None, arns):
                destination = t.find(arn)
                if destination and destination.resource["Type"] in SEND_ACTION:
                    found.append(Delivery("events.amazonaws.com", destination, rule_arn))
    for alarm in t.resources("AWS::CloudWatch::Alarm"):
        props = t.props(alarm)
        alarm_arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{props.get('AlarmName', alarm.logical_id)}"
        for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            for action in props.get(key, []):
                destination = t.find(action)
                if destination and destination.resource["Type"] == "AWS::SNS::Topic":
                    found.append(Delivery("cloudwatch.amazonaws.com", destination, alarm_arn))
    for group in t.resources("AWS::Logs::LogGroup"):
        name = t.props(group).get("LogGroupName", group.logical_id)
        found.append(Delivery(LOGS, group, f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"))
    return found


def _key_of(t: Templates, destination: Located) -> Located | None:
    key_arn = t.props(destination).get(KEY_PROPERTY[destination.resource["Type"]])
    return t.find(key_arn) if key_arn else None


def _scoped(statement: dict, delivery: Delivery) -> bool:
    """Scoped to our sources: aws:SourceAccount is ours, or aws:SourceArn matches the delivering resource."""
    keys = condition_keys(statement)
    if any(value == ACCOUNT for value in as_list(keys.get("aws:SourceAccount", []))):
        return True
    return any(fnmatchcase(delivery.source_arn, pattern) for pattern in as_list(keys.get("aws:SourceArn", [])))


def _key_problems(t: Templates, delivery: Delivery) -> list[str]:
    key = _key_of(t, delivery.destination)
    if key is None:
        # Log groups without a key use CloudWatch Logs' own encryption; queues/topics without one are SSE-SQS/none.
        return []
    if key.resource["Type"] != "AWS::KMS::Key":
        return [f"{delivery.destination.logical_id} is encrypted with {key.logical_id}, not a key of ours"]
    statements = [s for s in t.props(key)["KeyPolicy"]["Statement"] if delivery.service in service_principals(s)]
    problems = []
    for action in KEY_ACTIONS[delivery.destination.resource["Type"]]:
        granting = allowing(statements, action, "*")
        if not granting:
            problems.append(f"key {key.logical_id} does not let {delivery.service} {action}")
        elif delivery.service == LOGS:
            context = [condition_keys(s).get("kms:EncryptionContext:aws:logs:arn") for s in granting]
            if not any(c and fnmatchcase(delivery.source_arn, c) for c in context):
                problems.append(f"key {key.logical_id}: {delivery.service} {action} without the log group context")
        elif not any(_scoped(s, delivery) for s in granting):
            problems.append(f"key {key.logical_id}: {delivery.service} {action} is not scoped to our sources")
    return problems


def _resource_policy_problems(t: Templates, delivery: Delivery) -> list[str]:
    kind = delivery.destination.resource["Type"]
    if kind not in SEND_ACTION:
        return []
    policy_type, attached = (
        ("AWS::SQS::QueuePolicy", "Queues") if kind == "AWS::SQS::Queue" else ("AWS::SNS::TopicPolicy", "Topics")
    )
    target = f"<{delivery.destination.logical_id}>"
    statements = [
        s
        for policy in t.resources(policy_type)
        if target in t.props(policy)[attached]
        for s in t.props(policy)["PolicyDocument"]["Statement"]
        if delivery.service in service_principals(s)
    ]
    arn = f"<{delivery.destination.logical_id}.Arn>" if kind == "AWS::SQS::Queue" else target
    granting = [s for s in allowing(statements, SEND_ACTION[kind], arn) if _scoped(s, delivery)]
    if not granting:
        return [
            f"{delivery.destination.logical_id}'s policy does not let {delivery.service} {SEND_ACTION[kind]} "
            f"for {delivery.source_arn}"
        ]
    return []


def test_the_templates_wire_service_deliveries(each_env: SynthesizedApp) -> None:
    pairs = {(d.service, d.destination.resource["Type"]) for d in deliveries(Templates(each_env))}
    # The derivation finds the deliveries the pipeline is built on: DLQs, alarm topic, encrypted logs.
    assert {
        ("events.amazonaws.com", "AWS::SQS::Queue"),
        ("cloudwatch.amazonaws.com", "AWS::SNS::Topic"),
        (LOGS, "AWS::Logs::LogGroup"),
    } <= pairs


def test_every_service_delivery_is_allowed_by_key_and_resource_policy(each_env: SynthesizedApp) -> None:
    t = Templates(each_env)
    problems = sorted({p for d in deliveries(t) for p in (*_key_problems(t, d), *_resource_policy_problems(t, d))})
    assert problems == []


def test_every_encrypted_log_group_is_encrypted(each_env: SynthesizedApp) -> None:
    # A log group without a key is in the clear to anyone with logs read access: every one uses ours.
    t = Templates(each_env)
    unencrypted = [g.logical_id for g in t.resources("AWS::Logs::LogGroup") if "KmsKeyId" not in t.props(g)]
    assert unencrypted == []


def test_access_log_delivery_is_allowed(each_env: SynthesizedApp) -> None:
    """S3 delivers server access logs as logging.s3.amazonaws.com, which cannot use SSE-KMS targets."""
    t = Templates(each_env)
    logged = [b for b in t.resources("AWS::S3::Bucket") if "LoggingConfiguration" in t.props(b)]
    assert logged, "the data and artifacts buckets log their access"
    for bucket in logged:
        target = t.find(t.props(bucket)["LoggingConfiguration"]["DestinationBucketName"])
        encryption = t.props(target)["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert [e["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for e in encryption] == ["AES256"]
        prefix = t.props(bucket)["LoggingConfiguration"].get("LogFilePrefix", "")
        delivery = Delivery("logging.s3.amazonaws.com", target, f"<{bucket.logical_id}.Arn>")
        statements = [
            s
            for policy in t.resources("AWS::S3::BucketPolicy")
            if t.props(policy)["Bucket"] == f"<{target.logical_id}>"
            for s in t.props(policy)["PolicyDocument"]["Statement"]
            if delivery.service in service_principals(s)
        ]
        granting = allowing(statements, "s3:PutObject", f"<{target.logical_id}.Arn>/{prefix}log-object")
        assert [s for s in granting if _scoped(s, delivery)], bucket.logical_id


# What a role needs to deliver to a destination of each type.
ROLE_ACTION = {
    "AWS::StepFunctions::StateMachine": "states:StartExecution",
    "AWS::Lambda::Function": "lambda:InvokeFunction",
    **SEND_ACTION,
}


@dataclass(frozen=True)
class RoleDelivery:
    """A delivery made with a role: a rule's target role, a function's role for its destinations and DLQ."""

    role: str
    destination: Located
    arn: str  # the destination's ARN, as rendered


def _arn_of(t: Templates, located: Located) -> str:
    by_ref = located.resource["Type"] in ("AWS::StepFunctions::StateMachine", "AWS::SNS::Topic")
    return f"<{located.logical_id}>" if by_ref else f"<{located.logical_id}.Arn>"


def role_deliveries(t: Templates) -> list[RoleDelivery]:
    found = []

    def add(role_arn: str, destination_arn: str) -> None:
        destination = t.find(destination_arn)
        if destination and destination.resource["Type"] in ROLE_ACTION:
            found.append(RoleDelivery(role_arn.strip("<>").removesuffix(".Arn"), destination, _arn_of(t, destination)))

    for rule in t.resources("AWS::Events::Rule"):
        for target in t.props(rule).get("Targets", []):
            if "RoleArn" in target:
                add(target["RoleArn"], target["Arn"])
    functions = {f.logical_id: t.props(f) for f in t.resources("AWS::Lambda::Function")}
    for config in t.resources("AWS::Lambda::EventInvokeConfig"):
        props = t.props(config)
        function = functions[props["FunctionName"].strip("<>")]
        for outcome in props.get("DestinationConfig", {}).values():
            add(function["Role"], outcome["Destination"])
    for function in functions.values():
        if "TargetArn" in function.get("DeadLetterConfig", {}):
            add(function["Role"], function["DeadLetterConfig"]["TargetArn"])
    return found


def _role_problems(t: Templates, delivery: RoleDelivery) -> list[str]:
    statements = t.identity_statements().get(delivery.role, [])
    action = ROLE_ACTION[delivery.destination.resource["Type"]]
    problems = (
        [] if allowing(statements, action, delivery.arn) else [f"{delivery.role} may not {action} {delivery.arn}"]
    )
    key_property = KEY_PROPERTY.get(delivery.destination.resource["Type"])
    key_arn = t.props(delivery.destination).get(key_property) if key_property else None
    if key_arn:
        problems += [
            f"{delivery.role} may not {a} with {key_arn}"
            for a in ("kms:GenerateDataKey", "kms:Decrypt")
            if not allowing(statements, a, key_arn)
        ]
    return problems


def test_every_delivery_made_with_a_role_is_allowed(each_env: SynthesizedApp) -> None:
    t = Templates(each_env)
    found = role_deliveries(t)
    assert any(d.destination.resource["Type"] == "AWS::StepFunctions::StateMachine" for d in found)
    assert sorted({p for d in found for p in _role_problems(t, d)}) == []


def test_every_rule_may_invoke_its_function_targets(each_env: SynthesizedApp) -> None:
    """A Lambda target without a role is invoked by EventBridge: the function's policy names the rule."""
    t = Templates(each_env)
    permissions = [t.props(p) for p in t.resources("AWS::Lambda::Permission")]
    missing = []
    for rule in t.resources("AWS::Events::Rule"):
        for target in t.props(rule).get("Targets", []):
            function = t.find(target["Arn"])
            if "RoleArn" in target or not function or function.resource["Type"] != "AWS::Lambda::Function":
                continue
            allowed = any(
                p["Principal"] == "events.amazonaws.com"
                and p["Action"] == "lambda:InvokeFunction"
                and p["FunctionName"] == target["Arn"]
                and p.get("SourceArn") == f"<{rule.logical_id}.Arn>"
                for p in permissions
            )
            if not allowed:
                missing.append(f"{rule.logical_id} -> {function.logical_id}")
    assert missing == []


@pytest.mark.parametrize("service", ["events.amazonaws.com", "cloudwatch.amazonaws.com"])
def test_the_check_catches_a_missing_key_grant(dev: SynthesizedApp, service: str) -> None:
    """The gate is live: without the key's statements for a service, its deliveries are reported."""
    templates = copy.deepcopy(dev.templates)
    for resource in templates["storage"]["Resources"].values():
        if resource["Type"] == "AWS::KMS::Key":
            policy = resource["Properties"]["KeyPolicy"]
            policy["Statement"] = [s for s in policy["Statement"] if service not in str(s.get("Principal"))]
    t = Templates(dataclasses.replace(dev, templates=templates))
    problems = [p for d in deliveries(t) if d.service == service for p in _key_problems(t, d)]
    assert problems and all(service in p for p in problems)
