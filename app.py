#!/usr/bin/env python3
"""The CDK app. The only place that reads the environment: context (-c env=prod) and variables.

`-c env=NAME` synthesizes one environment's stage, `-c env=dev,prod` several, `-c env=all` every
config/*.json. Deploy one with `cdk deploy 'SageMakerPipeline-prod/*'`.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from pathlib import Path

# jsii starts its Node kernel when aws_cdk is first imported, with $JSII_NODE as the node: tools/jsii-node says why
# ours runs WebAssembly on the baseline compiler alone. A JSII_NODE of the user's own is kept.
os.environ.setdefault("JSII_NODE", str(Path(__file__).resolve().parent / "tools" / "jsii-node"))

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


def exit_without_teardown() -> None:
    """Leave once the assembly is written, without the interpreter's teardown.

    The teardown frees the objects of some 70 MB of CDK modules one by one: 0.3 s of a two-stage synthesis
    (docs/performance.md, fifth round) for a process that is ending anyway. The exit handlers run first, as at a
    normal exit: jsii's stops its Node kernel and waits for it, so nothing is left running, and logging flushes.
    Only after a synthesis that succeeded: an error leaves through the normal path, with its message and status.
    """
    atexit._run_exitfuncs()
    for thread in threading.enumerate():  # jsii's copier of the kernel's stderr ends at the kernel's exit:
        if thread.name == "process.stderr_sink":  # once it has ended, the kernel's last lines are out
            thread.join(timeout=5)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
    exit_without_teardown()
