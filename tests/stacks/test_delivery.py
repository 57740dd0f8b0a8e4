"""The delivery stack's template: the stage order, the approval before prod, the synth and smoke steps, the
encryption, the notifications; its snapshot; cfn-lint, checkov and cdk-nag over it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from stacks.delivery.smoke_access import SMOKE_CODEBUILD_ROLE
from tests.stacks.delivery_app import EXAMPLE, DeliveryApp, synthesize_delivery
from tests.stacks.test_checkov import checkov, run_checkov  # noqa: F401 (checkov: the fixture)
from tests.stacks.test_policy_gates import _lint
from tests.stacks.test_snapshots import mask_asset_hashes

# CDK Pipelines renders an environment-agnostic stage's bootstrap role ARNs (the deploy actions' RoleArn) with
# Fn::Join; cfn-lint's CodePipeline action schema only prefers Fn::Sub there: style, not an error of the template.
JOIN_IN_ROLE_ARN = "/Configuration/RoleArn: Prefer using Fn::Sub over Fn::Join with an empty delimiter"
PROJECT_CONFIG_HASH = re.compile(r'\{\\"name\\":\\"_PROJECT_CONFIG_HASH\\"[^}]*\}')


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> DeliveryApp:
    return synthesize_delivery(tmp_path_factory.mktemp("delivery") / "cdk.out")


def _actions(stage: dict) -> dict[str, dict]:
    return {action["Name"]: action for action in stage["Actions"]}


def _project(delivery: DeliveryApp, action: dict) -> dict:
    return delivery.template["Resources"][action["Configuration"]["ProjectName"]["Ref"]]["Properties"]


def _buildspec(project: dict) -> dict:
    return json.loads(project["Source"]["BuildSpec"])


@pytest.mark.slow
def test_a_change_flows_source_build_self_update_assets_dev_then_prod(delivery: DeliveryApp) -> None:
    names = [stage["Name"] for stage in delivery.stages()]
    assert names == ["Source", "Build", "UpdatePipeline", "Assets", "SageMakerPipeline-dev", "SageMakerPipeline-prod"]
    (pipeline,) = delivery.resources("AWS::CodePipeline::Pipeline").values()
    assert pipeline["Properties"]["PipelineType"] == "V2"
    assert _actions(delivery.stage("UpdatePipeline"))["SelfMutate"]["ActionTypeId"]["Provider"] == "CodeBuild"


def test_the_source_is_a_codeconnections_connection_to_the_configured_branch(delivery: DeliveryApp) -> None:
    (source,) = delivery.stage("Source")["Actions"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"  # CodeConnections' action provider
    assert source["Configuration"] == {
        "ConnectionArn": EXAMPLE["connection_arn"],
        "FullRepositoryId": EXAMPLE["repository"],
        "BranchName": EXAMPLE["branch"],
        # A full clone, not a zip of the files: `make test` archives HEAD (tests/pipeline_client/committed_app.py).
        "OutputArtifactFormat": "CODEBUILD_CLONE_REF",
    }
    # IAM matches the action's service prefix to the connection ARN's: CDK grants codestar-connections only.
    users = {
        name: policy["Properties"]["PolicyDocument"]["Statement"]
        for name, policy in delivery.resources("AWS::IAM::Policy").items()
        if "codestar-connections:UseConnection" in json.dumps(policy)
    }
    assert len(users) == 3  # the source action, the synth project and the smoke check (both clone the repository)
    for statements in users.values():
        assert any(
            "codeconnections:UseConnection" in s["Action"] and s["Resource"] == EXAMPLE["connection_arn"]
            for s in statements
        )


def test_the_synth_step_runs_make_test_then_the_synthesis(delivery: DeliveryApp) -> None:
    project = _project(delivery, _actions(delivery.stage("Build"))["Synth"])
    spec = _buildspec(project)
    assert spec["phases"]["build"]["commands"] == ["make test", "make synth-delivery"]
    assert spec["artifacts"]["base-directory"] == "cdk.out"
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "synth-delivery: setup" in makefile and "cdk synth --quiet -c delivery=true '**'" in makefile


def test_the_dev_stage_is_deployed_then_smoke_checked_with_its_own_outputs(delivery: DeliveryApp) -> None:
    actions = _actions(delivery.stage("SageMakerPipeline-dev"))
    deploys = {name: a for name, a in actions.items() if a["ActionTypeId"]["Category"] == "Deploy"}
    stacks = {a["Configuration"]["StackName"] for a in deploys.values()}
    assert stacks == {
        "SageMakerPipeline-dev-Storage",
        "SageMakerPipeline-dev-Pipeline",
        "SageMakerPipeline-dev-SmokeAccess",
    }
    smoke = actions["SmokeCheck"]
    assert smoke["RunOrder"] > max(a["RunOrder"] for a in deploys.values())
    namespaces = {a["Configuration"]["StackName"]: a.get("Namespace") for a in deploys.values()}
    variables = {v["name"]: v["value"] for v in json.loads(smoke["Configuration"]["EnvironmentVariables"])}
    pipeline, access = namespaces["SageMakerPipeline-dev-Pipeline"], namespaces["SageMakerPipeline-dev-SmokeAccess"]
    assert variables == {
        "SMOKE_ROLE_ARN": f"#{{{access}.SmokeRoleArn}}",
        "SMOKE_STATE_MACHINE_ARN": f"#{{{pipeline}.StateMachineArn}}",
        "SMOKE_ENDPOINT_NAME": f"#{{{pipeline}.EndpointName}}",
    }
    commands = _buildspec(_project(delivery, smoke))["phases"]["build"]["commands"]
    assert commands[-1] == "AWS_PROFILE=smoke .venv/bin/python -m pipeline_client smoke --env dev --timeout-minutes 60"
    assert _project(delivery, smoke)["TimeoutInMinutes"] == 60 + 15  # and `make setup` before it


def test_a_person_approves_with_a_notification_before_any_prod_deployment(delivery: DeliveryApp) -> None:
    actions = _actions(delivery.stage("SageMakerPipeline-prod"))
    approval = actions.pop("ApproveProd")
    assert approval["ActionTypeId"] == {"Category": "Approval", "Owner": "AWS", "Provider": "Manual", "Version": "1"}
    (topic,) = delivery.resources("AWS::SNS::Topic")
    assert approval["Configuration"]["NotificationArn"] == {"Ref": topic}
    assert actions and all(a["ActionTypeId"]["Category"] == "Deploy" for a in actions.values())
    assert approval["RunOrder"] < min(a["RunOrder"] for a in actions.values())
    stacks = {a["Configuration"]["StackName"] for a in actions.values()}
    assert stacks == {"SageMakerPipeline-prod-Storage", "SageMakerPipeline-prod-Pipeline"}


def test_artifacts_logs_and_notifications_are_encrypted_and_the_bucket_retained_and_tls_only(
    delivery: DeliveryApp,
) -> None:
    (key,) = delivery.resources("AWS::KMS::Key")
    key_arn = {"Fn::GetAtt": [key, "Arn"]}
    (pipeline,) = delivery.resources("AWS::CodePipeline::Pipeline").values()
    store = pipeline["Properties"]["ArtifactStore"]
    assert store["EncryptionKey"] == {"Id": key_arn, "Type": "KMS"}
    bucket = delivery.template["Resources"][store["Location"]["Ref"]]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    encryption = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"] == {"KMSMasterKeyID": key_arn, "SSEAlgorithm": "aws:kms"}
    policy = next(
        p
        for p in delivery.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == store["Location"]
    )
    assert {
        "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": [
            {"Fn::GetAtt": [store["Location"]["Ref"], "Arn"]},
            {"Fn::Join": ["", [{"Fn::GetAtt": [store["Location"]["Ref"], "Arn"]}, "/*"]]},
        ],
    } in policy["Properties"]["PolicyDocument"]["Statement"]
    (group_id, group), *others = delivery.resources("AWS::Logs::LogGroup").items()
    assert not others and group["Properties"]["KmsKeyId"] == key_arn and group["DeletionPolicy"] == "Retain"
    projects = delivery.resources("AWS::CodeBuild::Project").values()
    assert len(projects) == 5  # synth, self-mutation, docker and file assets, smoke check
    for project in projects:
        assert project["Properties"]["EncryptionKey"] == key_arn
        assert project["Properties"]["LogsConfig"]["CloudWatchLogs"] == {
            "GroupName": {"Ref": group_id},
            "Status": "ENABLED",
        }
    (topic,) = delivery.resources("AWS::SNS::Topic").values()
    assert topic["Properties"]["KmsMasterKeyId"] == key_arn


def test_a_failed_stage_notifies_the_topic_through_a_role_of_the_rule(delivery: DeliveryApp) -> None:
    (rule,) = delivery.resources("AWS::Events::Rule").values()
    (pipeline,) = delivery.resources("AWS::CodePipeline::Pipeline")
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.codepipeline"],
        "detail-type": ["CodePipeline Stage Execution State Change"],
        "detail": {"pipeline": [{"Ref": pipeline}], "state": ["FAILED"]},
    }
    (target,) = rule["Properties"]["Targets"]
    (topic,) = delivery.resources("AWS::SNS::Topic")
    assert target["Arn"] == {"Ref": topic}
    role = target["RoleArn"]["Fn::GetAtt"][0]
    policy = next(
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in delivery.resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role}]
    )
    assert {"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": topic}} in policy
    (subscription,) = delivery.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == EXAMPLE["notification_email"]


def test_the_smoke_role_trusts_only_the_smoke_check_and_does_only_what_it_does(delivery: DeliveryApp) -> None:
    roles = delivery.smoke_access["Resources"]
    (role,) = [r for r in roles.values() if r["Type"] == "AWS::IAM::Role"]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    principal = json.dumps(statement["Principal"])
    assert f":role/{SMOKE_CODEBUILD_ROLE}" in principal and statement["Action"] == "sts:AssumeRole"
    (policy,) = [r for r in roles.values() if r["Type"] == "AWS::IAM::Policy"]
    actions = sorted(
        action
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert actions == [
        "cloudformation:DescribeStacks",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "s3:GetObject",
        "s3:PutObject",
        "sagemaker:DescribeEndpoint",
        "sagemaker:InvokeEndpoint",
        "states:DescribeExecution",
        "states:GetExecutionHistory",
        "states:StartExecution",
    ]


def test_the_delivery_stack_matches_its_snapshot(delivery: DeliveryApp, snapshot: SnapshotAssertion) -> None:
    # The project-config hash changes with every buildspec byte CDK renders; the buildspecs themselves are kept.
    template = json.loads(PROJECT_CONFIG_HASH.sub("<project-config-hash>", json.dumps(delivery.template)))
    assert mask_asset_hashes(template) == snapshot.use_extension(JSONSnapshotExtension)(name="delivery")


def test_cfn_lint_finds_no_error_or_warning_in_the_delivery_templates(delivery: DeliveryApp) -> None:
    findings = _lint(delivery.template)
    accepted = [f for f in findings if f.startswith("E3703 ") and f.endswith(JOIN_IN_ROLE_ARN)]
    assert len(accepted) == 5  # one per stack's change-set action (the CloudFormation execution role): 3 dev, 2 prod
    assert [f for f in findings if f not in accepted] == []
    assert _lint(delivery.smoke_access) == []


def test_cdk_nag_reports_no_unacknowledged_finding(delivery: DeliveryApp) -> None:
    report = json.loads((delivery.outdir / "validation-report.json").read_text())
    assert report["title"] == "Validation Report"  # written by the gates (tests/stacks/test_policy_gates.py: live)
    assert [r for r in report["pluginReports"] if r.get("violations")] == []


@pytest.mark.slow
def test_checkov_finds_no_unacknowledged_failure_in_the_delivery_templates(
    checkov: Path,  # noqa: F811
    delivery: DeliveryApp,
    tmp_path: Path,
) -> None:
    shutil.copy(delivery.outdir / "Delivery.template.json", tmp_path)
    (tmp_path / "SmokeAccess.template.json").write_text(json.dumps(delivery.smoke_access))
    found = run_checkov(checkov, tmp_path)
    assert sorted(f"{c['check_id']} {c['resource']}" for c in found["failed"]) == []
    assert [c for c in found["skipped"] if not c["check_result"].get("suppress_comment")] == []
