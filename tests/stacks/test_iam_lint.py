"""parliament over every policy the templates hold: identity, key, queue, topic and bucket policies.

Every finding is either fixed or accepted in stacks/iam_lint_accepted.yaml with its reason; an accepted
entry that matches nothing any more is reported too, so the file stays reviewed.
docs/permission_gates.md says why parliament.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase

import yaml
from parliament import analyze_policy_string

from tests.conftest import REPO_ROOT, SynthesizedApp
from tests.stacks.template_policies import Templates

ACCEPTED = yaml.safe_load((REPO_ROOT / "stacks" / "iam_lint_accepted.yaml").read_text())
POLICY_PROPERTIES = {
    "AWS::IAM::Policy": "PolicyDocument",
    "AWS::IAM::ManagedPolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::S3::BucketPolicy": "PolicyDocument",
}


@dataclass(frozen=True)
class Finding:
    policy: str  # logical id of the resource that holds the policy
    issue: str
    detail: str

    def __str__(self) -> str:
        return f"{self.policy}: {self.issue} {self.detail[:300]}"


def policies(t: Templates) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for located in t.resources():
        props, kind = t.props(located), located.resource["Type"]
        documents = [props[POLICY_PROPERTIES[kind]]] if kind in POLICY_PROPERTIES else []
        if kind == "AWS::IAM::Role":
            # Permission policies only: parliament reads a trust policy as a permission policy without Resource.
            documents += [p["PolicyDocument"] for p in props.get("Policies", [])]
        if documents:
            found[located.logical_id] = documents
    return found


def lint(app: SynthesizedApp) -> list[Finding]:
    findings = []
    for holder, documents in policies(Templates(app, concrete=True)).items():
        for document in documents:
            result = analyze_policy_string(json.dumps(document), include_community_auditors=True)
            findings += [Finding(holder, f.issue, json.dumps(f.detail, sort_keys=True)) for f in result.findings]
    return sorted(set(findings), key=str)


def _accepts(entry: dict, finding: Finding) -> bool:
    return (
        entry["issue"] == finding.issue
        and fnmatchcase(finding.policy, entry["policy"])
        and entry.get("detail", "") in finding.detail
    )


def test_every_entry_has_a_reason() -> None:
    assert [e for e in ACCEPTED if len(e.get("reason", "")) < 20] == []


def test_no_unexplained_finding(each_env: SynthesizedApp) -> None:
    unexplained = [str(f) for f in lint(each_env) if not any(_accepts(e, f) for e in ACCEPTED)]
    assert unexplained == []


def test_no_stale_acceptance(synthesized: dict[str, SynthesizedApp]) -> None:
    findings = [f for app in synthesized.values() for f in lint(app)]
    stale = [e for e in ACCEPTED if not any(_accepts(e, f) for f in findings)]
    assert stale == []


def test_the_linter_reports_a_condition_its_action_ignores() -> None:
    """The class of defect it found here: a condition key an action never carries makes the grant dead."""
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["kms:CreateGrant", "kms:DescribeKey"],
                "Resource": "arn:aws:kms:eu-west-1:123456789012:key/k",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            }
        ],
    }
    issues = {f.issue for f in analyze_policy_string(json.dumps(document)).findings}
    assert "UNKNOWN_CONDITION_FOR_ACTION" in issues
