"""`make summary`: every stack of every stage, read from the stages' nested cloud assemblies."""

from __future__ import annotations

from tests.conftest import SynthesizedApp
from tools.synth_summary import summarize


def test_lists_the_resources_of_each_stage_s_stacks(dev: SynthesizedApp) -> None:
    report = summarize(dev.outdir)
    for role in dev.stack_names:  # the deployed stack names, as `cdk deploy` and the console show them
        stack = f"SageMakerPipeline-dev-{role.capitalize()}"
        assert f"\n{stack}: " in f"\n{report}", f"{stack} missing from:\n{report}"
    assert "AWS::StepFunctions::StateMachine" in report
    assert "AWS::S3::Bucket" in report
    assert report.splitlines()[-1].startswith("cdk-nag (AwsSolutions, NIST 800-53 rev 5): passed")
