"""Production variants: instance-based or serverless, validated as SageMaker validates them.

A variant is instance-based (`InstanceType`, `InitialInstanceCount`) or serverless (`ServerlessConfig`),
never both. Serverless Inference excludes data capture and multiple production variants, and an
instance-based endpoint cannot be updated to a serverless one (developer guide, "Update a serverless
endpoint"). Locally a serverless variant's `serve` runs at most min(MaxConcurrency, CPUs) workers: that is
how many requests the container can work on at once.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ..validation import ServiceError

# The developer guide's note ("Update a serverless endpoint"), as the service's reason.
UPDATE_TO_SERVERLESS = (
    "Updating a real-time inference endpoint to either an on-demand serverless endpoint or a serverless "
    "endpoint with Provisioned Concurrency is currently not supported."
)


def is_serverless(variant: dict[str, Any]) -> bool:
    return "ServerlessConfig" in variant


def serverless(config: dict[str, Any]) -> bool:
    return any(is_serverless(v) for v in config["ProductionVariants"])


def _invalid(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def validate_config(request: dict[str, Any]) -> None:
    """CreateEndpointConfig's rules for instance-based and serverless variants."""
    variants = request["ProductionVariants"]
    for variant in variants:
        name = variant["VariantName"]
        instance_based = "InstanceType" in variant or "InstancePools" in variant
        if instance_based and is_serverless(variant):
            raise _invalid(f"Production variant {name} cannot specify both InstanceType and ServerlessConfig.")
        if not instance_based and not is_serverless(variant):
            raise _invalid(f"Production variant {name} must specify either InstanceType or ServerlessConfig.")
        if not is_serverless(variant):
            continue
        if "InitialInstanceCount" in variant:
            raise _invalid(f"Production variant {name}: InitialInstanceCount is not supported with ServerlessConfig.")
        config = variant["ServerlessConfig"]
        if config["MemorySizeInMB"] % 1024:
            raise _invalid(
                f"Production variant {name}: MemorySizeInMB must be 1024, 2048, 3072, 4096, 5120 or 6144 "
                f"(1 GB increments), got {config['MemorySizeInMB']}."
            )
        provisioned = config.get("ProvisionedConcurrency")
        if provisioned is not None and provisioned > config["MaxConcurrency"]:
            raise _invalid(
                f"Production variant {name}: ProvisionedConcurrency ({provisioned}) must be less than or equal "
                f"to MaxConcurrency ({config['MaxConcurrency']})."
            )
    if serverless(request):
        if len(variants) > 1:
            raise _invalid("Serverless endpoints support a single production variant.")
        if "DataCaptureConfig" in request:
            raise _invalid("Data capture is not supported for serverless endpoints (DataCaptureConfig).")


def check_update(current: dict[str, Any], new: dict[str, Any]) -> None:
    """UpdateEndpoint from an instance-based configuration to a serverless one is refused at once."""
    if serverless(new) and not serverless(current):
        raise _invalid(UPDATE_TO_SERVERLESS)


def workers(variant: dict[str, Any]) -> int | None:
    """The serve workers of a serverless variant (None: the container's default, one per CPU)."""
    if not is_serverless(variant):
        return None
    return max(1, min(variant["ServerlessConfig"]["MaxConcurrency"], os.cpu_count() or 1))


def summaries(config: dict[str, Any], image: str | None) -> list[dict[str, Any]]:
    """DescribeEndpoint's ProductionVariants for a configuration that is serving."""
    out = []
    for variant in config["ProductionVariants"]:
        weight = variant.get("InitialVariantWeight", 1.0)
        summary: dict[str, Any] = {
            "VariantName": variant["VariantName"],
            "CurrentWeight": weight,
            "DesiredWeight": weight,
        }
        if is_serverless(variant):
            summary["CurrentServerlessConfig"] = dict(variant["ServerlessConfig"])
            summary["DesiredServerlessConfig"] = dict(variant["ServerlessConfig"])
        else:
            count = variant.get("InitialInstanceCount", 1)
            summary.update(CurrentInstanceCount=count, DesiredInstanceCount=count)
        if image:
            resolved = {"SpecifiedImage": image, "ResolvedImage": image, "ResolutionTime": time.time()}
            summary["DeployedImages"] = [resolved]
        out.append(summary)
    return out


def pending(config: dict[str, Any], status: str, message: str, since: float) -> list[dict[str, Any]]:
    """PendingDeploymentSummary's ProductionVariants: the new fleet's desired state and where it stands."""
    out = []
    for variant in config["ProductionVariants"]:
        summary: dict[str, Any] = {
            "VariantName": variant["VariantName"],
            "DesiredWeight": variant.get("InitialVariantWeight", 1.0),
            "VariantStatus": [{"Status": status, "StatusMessage": message, "StartTime": since}],
        }
        if is_serverless(variant):
            summary["DesiredServerlessConfig"] = dict(variant["ServerlessConfig"])
        else:
            summary["DesiredInstanceCount"] = variant.get("InitialInstanceCount", 1)
            summary["InstanceType"] = variant.get("InstanceType")
        out.append(summary)
    return out
