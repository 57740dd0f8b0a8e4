"""The delivery pipeline across three accounts (tooling 111111111111, dev 222222222222, prod 333333333333).

With accounts in the configuration, CDK renders literal ARNs, so the acknowledgments must follow (stacks/nag.py
renders them for the stack's environment): every construct, the stages' included, is clean, and the accounts
are wired across."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from stacks.config import load_config
from stacks.delivery.app import build_delivery
from stacks.delivery.smoke_access import SMOKE_CODEBUILD_ROLE, smoke_role_name
from tests.conftest import cdk_json_context
from tests.stacks.delivery_app import delivery_config

TOOLING, DEV, PROD, REGION = "111111111111", "222222222222", "333333333333", "eu-west-1"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("accounts") / "cdk.out"
    app = cdk.App(context={**cdk_json_context(), "delivery": "true"}, outdir=str(outdir))
    environments = {
        "dev": load_config("dev", {"account": DEV, "region": REGION}),
        "prod": load_config("prod", {"account": PROD, "region": REGION}),
    }
    build_delivery(app, delivery_config(account=TOOLING, region=REGION), environments)
    app.synth()  # raises on an unacknowledged finding
    return outdir


def test_every_finding_is_acknowledged(synthesized: Path) -> None:
    report = json.loads((synthesized / "validation-report.json").read_text())
    paths = {
        construct["constructPath"]
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
        for construct in violation["violatingConstructs"]
    }
    assert sorted(paths) == []


def test_the_accounts_are_wired_across(synthesized: Path) -> None:
    template = json.loads((synthesized / "Delivery.template.json").read_text())
    resources = template["Resources"]
    (key,) = [r for r in resources.values() if r["Type"] == "AWS::KMS::Key"]
    grantees = json.dumps(key["Properties"]["KeyPolicy"])
    for account in (DEV, PROD):  # the stages' deploy roles read the encrypted artifacts
        assert f"iam::{account}:role/cdk-hnb659fds-deploy-role-{account}-{REGION}" in grantees
    policies = json.dumps([r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"])
    assert f"iam::{DEV}:role/{smoke_role_name('dev')}" in policies
    access = next((synthesized / "assembly-Delivery-SageMakerPipeline-dev").glob("*SmokeAccess*.template.json"))
    (role,) = [r for r in json.loads(access.read_text())["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    trusted = json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
    assert f"iam::{TOOLING}:role/{SMOKE_CODEBUILD_ROLE}" in trusted
