#!/usr/bin/env python3
"""The CDK app. The only place that reads the environment: context (-c env=prod) and variables.

`-c env=NAME` synthesizes one environment's stage, `-c env=dev,prod` several, `-c env=all` every
config/*.json. Deploy one with `cdk deploy 'SageMakerPipeline-prod/*'`.
"""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk

from stacks.app_builder import build_app
from stacks.config import ConfigError, known_environments, load_config
from stacks.delivery.app import build_delivery_from_files, delivery_requested


def main() -> None:
    app = cdk.App()
    if delivery_requested(app):  # -c delivery=true: the delivery pipeline, its stages inside (docs/delivery.md)
        try:
            build_delivery_from_files(app)
        except ConfigError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)
        app.synth()
        return
    requested = str(app.node.try_get_context("env") or "dev")
    environments = known_environments() if requested == "all" else [e.strip() for e in requested.split(",")]
    overrides = {
        "account": app.node.try_get_context("account") or os.environ.get("PIPELINE_ACCOUNT"),
        "region": app.node.try_get_context("region") or os.environ.get("PIPELINE_REGION"),
    }
    try:
        configs = [load_config(environment, overrides) for environment in environments]
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    build_app(app, configs)
    app.synth()


if __name__ == "__main__":
    main()
