"""Identity policies grant writes on named resources only, and the roles that make a call hold what AWS
documents that call needs. Which actions support resources comes from the IAM database that policy_sentry
bundles (the Service Authorization Reference, parsed), not from a list kept by hand."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from functools import cache

import pytest
from policy_sentry.querying.actions import get_action_data, get_actions_for_service

from tests.conftest import SynthesizedApp
from tests.stacks.template_policies import ACCOUNT, REGION, Templates, allowing, as_list, condition_keys

WRITE_LEVELS = {"Write", "Permissions management", "Tagging"}
SAGEMAKER_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
SCALING_ROLE = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


@cache
def _actions(service: str) -> tuple[str, ...]:
    return tuple(get_actions_for_service(service))


@cache
def _write_with_resource_type(action: str) -> bool:
    """A write the service can scope to a resource: some resource type other than "*" is listed for it."""
    service, name = action.split(":", 1)
    rows = get_action_data(service, name).get(service, [])
    return any(r["access_level"] in WRITE_LEVELS for r in rows) and any(r["resource_arn_format"] != "*" for r in rows)


def _expand(pattern: str) -> list[str]:
    service = pattern.split(":", 1)[0]
    return [a for a in _actions(service) if fnmatchcase(a.lower(), pattern.lower())]


def unscoped_writes(t: Templates) -> list[str]:
    found = []
    for role, statements in t.identity_statements().items():
        for statement in statements:
            if statement["Effect"] != "Allow" or "*" not in as_list(statement.get("Resource", [])):
                continue
            for pattern in as_list(statement.get("Action", [])):
                found += [f"{role}: {a}" for a in _expand(pattern) if _write_with_resource_type(a)]
    return sorted(set(found))


def test_no_write_on_every_resource_where_the_service_supports_resources(each_env: SynthesizedApp) -> None:
    assert unscoped_writes(Templates(each_env)) == []


def test_the_write_scan_catches_a_broad_grant(dev: SynthesizedApp) -> None:
    templates = json.loads(json.dumps(dev.templates))
    policy = next(r for r in templates["pipeline"]["Resources"].values() if r["Type"] == "AWS::IAM::Policy")
    policy["Properties"]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": "cloudwatch:*Alarms", "Resource": "*"}
    )
    found = unscoped_writes(Templates(SynthesizedApp(dev.environment, dev.outdir, templates, {}, dev.stage_dir)))
    assert any(f.endswith("cloudwatch:DeleteAlarms") for f in found)


def _machines(t: Templates) -> list[tuple[str, dict]]:
    """(role logical id, definition) of every state machine, references rendered as <LogicalId>."""
    found = []
    for machine in t.resources("AWS::StepFunctions::StateMachine"):
        props = t.props(machine)
        found.append((props["RoleArn"].strip("<>").removesuffix(".Arn"), json.loads(props["DefinitionString"])))
    return found


def _tasks_calling(definition: dict, integration: str) -> list[dict]:
    return [s for s in definition["States"].values() if s.get("Resource", "").endswith(integration)]


def _grants(statements: list[dict], action: str, resource: str, **conditions: str) -> bool:
    """Some Allow grants it, and every condition it sets on `conditions`' keys admits our values."""
    for statement in allowing(statements, action, resource):
        keys = condition_keys(statement)
        if all(fnmatchcase(v, p) for k, v in conditions.items() for p in as_list(keys.get(k, v))):
            return True
    return False


def test_the_role_that_registers_autoscaling_holds_its_prerequisites(prod: SynthesizedApp) -> None:
    """What the Application Auto Scaling and SageMaker guides list for a SageMaker variant's scaling."""
    t = Templates(prod)
    statements = t.identity_statements()
    callers = [
        (role, d) for role, d in _machines(t) if _tasks_calling(d, "applicationautoscaling:registerScalableTarget")
    ]
    assert callers, "prod scales its endpoint: some workflow registers the scalable target"
    for role, definition in callers:
        (register,) = _tasks_calling(definition, "applicationautoscaling:registerScalableTarget")
        endpoint = register["Parameters"]["ResourceId"].split("/")[1]
        target = f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/0123456789abcdef"
        alarms = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:TargetTracking-endpoint/{endpoint}"
        alarm = f"{alarms}/variant/AllTraffic-AlarmHigh-1a2b"
        scaling = {
            "application-autoscaling:service-namespace": "sagemaker",
            "application-autoscaling:scalable-dimension": "sagemaker:variant:DesiredInstanceCount",
        }
        needed = [
            ("application-autoscaling:RegisterScalableTarget", target, scaling),
            ("application-autoscaling:PutScalingPolicy", target, scaling),
            ("sagemaker:DescribeEndpoint", f"{SAGEMAKER_ARN}:endpoint/{endpoint}", {}),
            ("sagemaker:DescribeEndpointConfig", f"{SAGEMAKER_ARN}:endpoint-config/config-run-1", {}),
            ("sagemaker:UpdateEndpointWeightsAndCapacities", f"{SAGEMAKER_ARN}:endpoint/{endpoint}", {}),
            ("cloudwatch:PutMetricAlarm", alarm, {}),
            ("cloudwatch:DescribeAlarms", alarm, {}),
            ("cloudwatch:DeleteAlarms", alarm, {}),
            (
                "iam:CreateServiceLinkedRole",
                SCALING_ROLE,
                {"iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"},
            ),
        ]
        missing = [a for a, resource, c in needed if not _grants(statements[role], a, resource, **c)]
        assert missing == [], role
        # ... and nothing beyond this endpoint's own target-tracking alarms.
        other = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:EndpointAlarmsErrors5xx"
        assert not _grants(statements[role], "cloudwatch:DeleteAlarms", other), role


def test_who_names_rollback_alarms_may_describe_them(each_env: SynthesizedApp) -> None:
    """SageMaker's auto-rollback guide: the role must be able to cloudwatch:DescribeAlarms those alarms."""
    t = Templates(each_env)
    statements = t.identity_statements()
    updating = [(role, s) for role, d in _machines(t) for s in _tasks_calling(d, "sagemaker:updateEndpoint")]
    if not updating:
        pytest.skip(f"{each_env.environment}: no workflow updates an endpoint")
    sagemaker_role = next(r for r in statements if r.startswith("SageMakerExecutionRole"))
    for role, update in updating:
        alarms = update["Parameters"]["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
        for alarm in alarms:
            located = t.find(alarm["AlarmName"])
            arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm['AlarmName']}"
            assert located is not None and located.resource["Type"] == "AWS::CloudWatch::Alarm"
            for holder in (role, sagemaker_role):
                assert _grants(statements[holder], "cloudwatch:DescribeAlarms", arn), (holder, arn)


def test_the_image_copy_pulls_and_pushes_only_the_two_repositories(each_env: SynthesizedApp) -> None:
    """cdk-ecr-deployment grants ecr:* and s3:GetObject on "*"; its role here holds only what the copy needs."""
    t = Templates(each_env)
    statements = t.identity_statements()
    (copier,) = [r for r, s in statements.items() if any("ecr:PutImage" in as_list(x["Action"]) for x in s)]
    on_everything = sorted(
        {a for s in statements[copier] if "*" in as_list(s["Resource"]) for a in as_list(s["Action"])}
    )
    assert on_everything == ["ecr:GetAuthorizationToken"]
    assert not [s for s in statements[copier] if any(a.startswith("s3:") for a in as_list(s["Action"]))]
