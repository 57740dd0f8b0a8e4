"""The app in delivery mode (`-c delivery=true`): the delivery stack alone; the stages live inside it."""

from __future__ import annotations

import aws_cdk as cdk

from stacks.config import AppConfig, ConfigError, load_config
from stacks.config.delivery import PREFIX, DeliveryConfig, load_delivery_config
from stacks.delivery.delivery_stack import DeliveryStack
from stacks.nag import add_policy_gates

DELIVERY_STACK = "Delivery"
PROMOTED = ("dev", "prod")  # in this order: dev is deployed and smoke-checked before prod


def delivery_requested(app: cdk.App) -> bool:
    """`-c delivery=true`: synthesize the delivery stack instead of the stages (make synth-delivery)."""
    return str(app.node.try_get_context("delivery") or "").lower() in ("1", "true", "yes")


def build_delivery_from_files(app: cdk.App) -> DeliveryStack:
    """config/delivery/pipeline.json and config/<env>.json of each promoted environment; ConfigError if wrong."""
    return build_delivery(app, load_delivery_config(), {env: load_config(env) for env in PROMOTED})


def build_delivery(app: cdk.App, delivery: DeliveryConfig, environments: dict[str, AppConfig]) -> DeliveryStack:
    missing = set(PROMOTED) - set(environments)
    if missing:
        raise ValueError(f"the delivery pipeline promotes dev to prod: give both configurations, missing {missing}")
    for env in PROMOTED:
        config = environments[env]
        if config.account and delivery.account is None:
            # Another account's bootstrap roles trust a named account (cdk bootstrap --trust), not "wherever".
            raise ConfigError(
                f"{PREFIX}: config/{env}.json deploys {env} to account {config.account}, so the pipeline needs its "
                "own account too: set account and region (the tooling account)"
            )
    stack = DeliveryStack(app, DELIVERY_STACK, delivery=delivery, environments=environments)
    add_policy_gates(app)  # the stages inside carry their own gates (stacks/pipeline_stage.py)
    return stack
