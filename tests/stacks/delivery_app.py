"""The delivery app synthesized as `make synth-delivery` does, with an example source (the committed
config/delivery/pipeline.json names no connection: each team creates its own)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from stacks.config.delivery import DeliveryConfig, parse_delivery_config
from tests.conftest import cdk_json_context

EXAMPLE = {
    "connection_arn": "arn:aws:codeconnections:eu-west-1:111111111111:connection/0a1b2c3d-0000-4000-8000-000000000000",
    "repository": "my-org/ml-pipeline",
    "branch": "main",
    "notification_email": "ml-platform-alerts@example.com",
}


@dataclass(frozen=True)
class DeliveryApp:
    outdir: Path
    template: dict  # the Delivery stack's
    smoke_access: dict  # the dev stage's SageMakerPipeline-dev-SmokeAccess

    def resources(self, resource_type: str) -> dict[str, dict]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == resource_type}

    def stages(self) -> list[dict]:
        (pipeline,) = self.resources("AWS::CodePipeline::Pipeline").values()
        return pipeline["Properties"]["Stages"]

    def stage(self, name: str) -> dict:
        return next(stage for stage in self.stages() if stage["Name"] == name)


def delivery_config(**changes: object) -> DeliveryConfig:
    return parse_delivery_config({**EXAMPLE, **changes})


def synthesize_delivery(outdir: Path, delivery: DeliveryConfig | None = None) -> DeliveryApp:
    import aws_cdk as cdk

    from stacks.config import load_config
    from stacks.delivery.app import PROMOTED, build_delivery

    app = cdk.App(context={**cdk_json_context(), "delivery": "true"}, outdir=str(outdir))
    stack = build_delivery(app, delivery or delivery_config(), {env: load_config(env) for env in PROMOTED})
    assembly = app.synth()
    template = assembly.get_stack_artifact(stack.artifact_id).template
    dev = assembly.get_nested_assembly(stack.dev.artifact_id)
    access = next(s for s in dev.stacks if s.stack_name == "SageMakerPipeline-dev-SmokeAccess")
    return DeliveryApp(
        outdir=outdir, template=template, smoke_access=json.loads(Path(access.template_full_path).read_text())
    )
