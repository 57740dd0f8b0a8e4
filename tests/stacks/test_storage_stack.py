"""The stateful stack: encryption, TLS only, versioning, lifecycle, retention, ECR settings, pinned ids."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from tests.conftest import SynthesizedApp

# Renaming one of these replaces the resource and loses its data: a refactor must keep them.
PINNED_LOGICAL_IDS = {
    "EncryptionKey3A692D6E": "AWS::KMS::Key",
    "AccessLogsBucketCD784A59": "AWS::S3::Bucket",
    "DataBucketE6B0FAA8": "AWS::S3::Bucket",
    "ArtifactsBucket88671897": "AWS::S3::Bucket",
    "ImageRepositoryD8036990": "AWS::ECR::Repository",
    "ModelRegistryGroupC87F7ECA": "AWS::SageMaker::ModelPackageGroup",
}
KMS_BUCKETS = ("DataBucketE6B0FAA8", "ArtifactsBucket88671897")


def _storage(app: SynthesizedApp) -> Template:
    return Template.from_json(app.template("storage"))


def test_stateful_logical_ids_are_pinned(each_env: SynthesizedApp) -> None:
    resources = each_env.template("storage")["Resources"]
    assert {k: resources[k]["Type"] for k in PINNED_LOGICAL_IDS if k in resources} == PINNED_LOGICAL_IDS


def test_every_stateful_resource_is_retained_in_both_environments(each_env: SynthesizedApp) -> None:
    resources = each_env.template("storage")["Resources"]
    for logical_id in PINNED_LOGICAL_IDS:
        assert resources[logical_id]["DeletionPolicy"] == "Retain", logical_id
        assert resources[logical_id]["UpdateReplacePolicy"] == "Retain", logical_id


@pytest.mark.parametrize("role", ["storage", "pipeline"])
def test_prod_stacks_have_termination_protection(prod: SynthesizedApp, dev: SynthesizedApp, role: str) -> None:
    import json

    def protected(app: SynthesizedApp) -> bool:
        manifest = json.loads((app.stage_dir / "manifest.json").read_text())
        return manifest["artifacts"][app.stack_names[role]]["properties"].get("terminationProtection", False)

    assert protected(prod) and not protected(dev)


def test_key_rotates(each_env: SynthesizedApp) -> None:
    _storage(each_env).has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_key_lets_only_this_accounts_log_groups_use_it(each_env: SynthesizedApp) -> None:
    statements = each_env.template("storage")["Resources"]["EncryptionKey3A692D6E"]["Properties"]["KeyPolicy"][
        "Statement"
    ]
    logs = next(s for s in statements if s.get("Sid") == "AllowCloudWatchLogsOfThisAccount")
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]


@pytest.mark.parametrize("bucket", KMS_BUCKETS)
def test_data_and_artifacts_use_sse_kms_with_the_key(each_env: SynthesizedApp, bucket: str) -> None:
    props = each_env.template("storage")["Resources"][bucket]["Properties"]
    default = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert default == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["EncryptionKey3A692D6E", "Arn"]}}
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogsBucketCD784A59"}


def test_access_log_bucket_uses_sse_s3_because_s3_cannot_log_to_kms(each_env: SynthesizedApp) -> None:
    props = each_env.template("storage")["Resources"]["AccessLogsBucketCD784A59"]["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }


@pytest.mark.parametrize("bucket", [k for k, v in PINNED_LOGICAL_IDS.items() if v == "AWS::S3::Bucket"])
def test_every_bucket_is_private_versioned_and_expires_old_versions(each_env: SynthesizedApp, bucket: str) -> None:
    props = each_env.template("storage")["Resources"][bucket]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    rule = props["LifecycleConfiguration"]["Rules"][0]
    storage = {"dev": (30, 7), "prod": (365, 7)}[each_env.environment]
    assert (
        rule["NoncurrentVersionExpiration"]["NoncurrentDays"],
        rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"],
    ) == storage


def test_every_bucket_denies_plain_http(each_env: SynthesizedApp) -> None:
    policies = each_env.resources("storage", "AWS::S3::BucketPolicy")
    assert len(policies) == 3
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny"
            and s["Action"] == "s3:*"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


def test_image_repository_is_immutable_scanned_encrypted_and_cleans_untagged(each_env: SynthesizedApp) -> None:
    _storage(each_env).has_resource_properties(
        "AWS::ECR::Repository",
        {
            "ImageScanningConfiguration": {"ScanOnPush": True},
            "ImageTagMutability": "IMMUTABLE",
            "EncryptionConfiguration": {
                "EncryptionType": "KMS",
                "KmsKey": {"Fn::GetAtt": ["EncryptionKey3A692D6E", "Arn"]},
            },
            "LifecyclePolicy": {"LifecyclePolicyText": Match.string_like_regexp('"tagStatus":"untagged"')},
        },
    )


def test_model_registry_group_is_named_per_environment(each_env: SynthesizedApp) -> None:
    group = each_env.template("storage")["Resources"]["ModelRegistryGroupC87F7ECA"]["Properties"]
    assert group["ModelPackageGroupName"] == f"sagemakerpipeline-{each_env.environment}-storage-models"


def test_no_physical_names(each_env: SynthesizedApp) -> None:
    for resource in each_env.template("storage")["Resources"].values():
        props = resource.get("Properties", {})
        assert not {"BucketName", "RepositoryName", "AliasName"} & set(props)


def test_everything_is_tagged_from_the_configuration(each_env: SynthesizedApp) -> None:
    tags = {
        t["Key"]: t["Value"]
        for t in each_env.template("storage")["Resources"]["DataBucketE6B0FAA8"]["Properties"]["Tags"]
    }
    assert tags == {
        "project": "sagemaker-pipeline",
        "environment": each_env.environment,
        "owner": "ml-platform",
        "cost-center": {"dev": "ml-research", "prod": "ml-production"}[each_env.environment],
    }
