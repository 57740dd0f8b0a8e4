#!/usr/bin/env python3
"""The CDK app. The only place that reads the environment: context (-c env=prod) and variables."""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk

from stacks.app_builder import build_app
from stacks.config import ConfigError, load_config


def main() -> None:
    app = cdk.App()
    environment = app.node.try_get_context("env") or "dev"
    overrides = {
        "account": app.node.try_get_context("account") or os.environ.get("PIPELINE_ACCOUNT"),
        "region": app.node.try_get_context("region") or os.environ.get("PIPELINE_REGION"),
    }
    try:
        config = load_config(environment, overrides)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    build_app(app, config)
    app.synth()


if __name__ == "__main__":
    main()
