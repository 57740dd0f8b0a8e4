"""Blue/green endpoint updates with deployment guardrails (developer guide, "Deployment guardrails").

The new (green) fleet starts beside the serving (blue) one. Traffic shifts to it as the
TrafficRoutingConfiguration says: ALL_AT_ONCE in one step, CANARY a canary share then the rest, LINEAR in
equal steps. Every step is followed by a baking period of WaitIntervalInSeconds, the last one being the
final baking period, then TerminationWaitInSeconds before the blue fleet is terminated; all of these are
multiplied by the runner's time scale. Throughout, the alarms of AutoRollbackConfiguration are read
(DescribeAlarms); if any is in ALARM, SageMaker rolls back: all traffic returns to the blue fleet, the
green one is terminated, and the endpoint is InService again with its previous EndpointConfigName, the
reason in FailureReason and the update's DeploymentConfig in LastDeploymentConfig. Without an update
policy SageMaker does a blue/green update with all-at-once traffic shifting (BlueGreenUpdatePolicy).
"""

from __future__ import annotations

import math
import time
from typing import Any

from ..validation import ServiceError
from . import endpoints, variants

ALL_AT_ONCE = {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}}
_POLL_SECONDS = 0.05


def _invalid(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def _capacity(config: dict[str, Any]) -> int:
    variant = config["ProductionVariants"][0]
    if variants.is_serverless(variant):
        return variant["ServerlessConfig"]["MaxConcurrency"]
    return variant.get("InitialInstanceCount", 1)


def _share(size: dict[str, Any], capacity: int) -> float:
    """A CapacitySize as the share of the new fleet (and so of the traffic) it turns on."""
    if size["Type"] == "CAPACITY_PERCENT":
        return size["Value"] / 100
    return size["Value"] / capacity


def validate(deployment: dict[str, Any] | None, current: dict[str, Any] | None, new: dict[str, Any]) -> None:
    """UpdateEndpoint's synchronous checks of a DeploymentConfig."""
    if not deployment:
        return
    if deployment.get("RollingUpdatePolicy") is not None:
        if deployment.get("BlueGreenUpdatePolicy") is not None:
            raise _invalid("Specify either BlueGreenUpdatePolicy or RollingUpdatePolicy, not both.")
        raise ServiceError("NotImplementedException", "The local SageMaker does not implement RollingUpdatePolicy", 501)
    if current is not None:
        old = {v["VariantName"] for v in current["ProductionVariants"]}
        if {v["VariantName"] for v in new["ProductionVariants"]} != old:
            raise _invalid(
                "A blue/green deployment needs the same variant names in the new endpoint configuration as in the "
                f"current one ({', '.join(sorted(old))})."
            )
    policy = deployment.get("BlueGreenUpdatePolicy") or ALL_AT_ONCE
    routing = policy["TrafficRoutingConfiguration"]
    kind, capacity = routing["Type"], _capacity(new)
    needed = {"CANARY": "CanarySize", "LINEAR": "LinearStepSize"}.get(kind)
    for key in ("CanarySize", "LinearStepSize"):
        if key == needed and key not in routing:
            raise _invalid(f"TrafficRoutingConfiguration of type {kind} requires {key}.")
        if key != needed and key in routing:
            raise _invalid(f"{key} is not valid for TrafficRoutingConfiguration of type {kind}.")
    if kind == "CANARY" and _share(routing["CanarySize"], capacity) > 0.5:
        raise _invalid("CanarySize must be less than or equal to 50% of the variant's total instance count.")
    if kind == "LINEAR" and not 0.1 <= _share(routing["LinearStepSize"], capacity) <= 0.5:
        raise _invalid("LinearStepSize must be 10-50% of the variant's total instance count.")
    timeout = policy.get("MaximumExecutionTimeoutInSeconds")
    steps = len(shares(policy, capacity))
    waiting = steps * routing["WaitIntervalInSeconds"] + policy.get("TerminationWaitInSeconds", 0)
    if timeout is not None and timeout <= waiting:
        raise _invalid(
            f"MaximumExecutionTimeoutInSeconds ({timeout}) must be larger than the total waiting time of "
            f"TerminationWaitInSeconds and WaitIntervalInSeconds ({waiting})."
        )


def shares(policy: dict[str, Any], capacity: int) -> list[float]:
    """The green fleet's share of traffic after each step."""
    routing = policy["TrafficRoutingConfiguration"]
    if routing["Type"] == "CANARY":
        return [_share(routing["CanarySize"], capacity), 1.0]
    if routing["Type"] == "LINEAR":
        step = _share(routing["LinearStepSize"], capacity)
        return [min(1.0, step * (i + 1)) for i in range(math.ceil(1 / step))]
    return [1.0]


class BlueGreen:
    """Mixed into LocalSageMaker, after Hosting."""

    def blue_green_update(
        self,
        name: str,
        blue: dict[str, Any],
        green: dict[str, Any],
        config: dict[str, Any],
        image: str | None,
        deployment: dict[str, Any] | None,
    ) -> None:
        policy = (deployment or {}).get("BlueGreenUpdatePolicy") or ALL_AT_ONCE
        routing = policy["TrafficRoutingConfiguration"]
        alarms = [a["AlarmName"] for a in (deployment or {}).get("AutoRollbackConfiguration", {}).get("Alarms", [])]
        bake = routing["WaitIntervalInSeconds"] * self.time_scale
        timeout = policy.get("MaximumExecutionTimeoutInSeconds")
        # Measured from the first traffic shift: locally, starting the fleet is the machine's speed, not the plan's.
        deadline = None if timeout is None else time.monotonic() + timeout * self.time_scale
        started = time.time()
        breached: list[str] = []
        try:
            for step, share in enumerate(shares(policy, _capacity(config))):
                self._shift(name, green, config, share, started)
                if step == 0:  # the green fleet takes traffic now: the moment a test breaches an alarm
                    breached = self.cloudwatch.breach(self.faults.alarm_breach_patterns())
                reason = self._bake(alarms, bake, deadline)
                if reason:
                    return self._roll_back(name, green, deployment, reason)
            terminating = policy.get("TerminationWaitInSeconds", 0) * self.time_scale
            reason = self._bake(alarms, terminating, deadline)
            if reason:
                return self._roll_back(name, green, deployment, reason)
            green = {k: v for k, v in green.items() if k != "weight"}
            self.serve(name, green, config, image, deployment)
        except Exception as error:  # an infrastructure fault: the blue fleet keeps serving, as on a rollback
            self._roll_back(name, green, deployment, f"InternalServerError: {error}")
        finally:
            self.cloudwatch.restore(breached)

    def _shift(self, name: str, green: dict[str, Any], config: dict[str, Any], share: float, since: float) -> None:
        green["weight"] = share
        status = "Baking" if share >= 1.0 else "ActivatingTraffic"
        message = f"{share:.0%} of the traffic on the new fleet"
        self.store.update(
            "endpoints",
            name,
            green=dict(green),
            launching=None,  # recorded as green in the same write: never off the record
            PendingDeploymentSummary={
                "EndpointConfigName": config["EndpointConfigName"],
                "ProductionVariants": variants.pending(config, status, message, time.time()),
                "StartTime": since,
            },
        )

    def _bake(self, alarms: list[str], seconds: float, deadline: float | None) -> str | None:
        """Watch the alarms for `seconds` (at least once); the reason to roll back, or None."""
        end = time.monotonic() + seconds
        while True:
            tripped = self.cloudwatch.in_alarm(alarms)
            if tripped:
                return f"CloudWatch alarm(s) in ALARM during the deployment: {', '.join(tripped)}."
            if self.endpoint_shutdown.is_set():
                return "InternalServerError: the local runner stopped during the update."
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return "The deployment exceeded MaximumExecutionTimeoutInSeconds."
            if now >= end:
                return None
            time.sleep(min(_POLL_SECONDS, end - now))

    def _roll_back(self, name: str, green: dict[str, Any], deployment: dict[str, Any] | None, reason: str) -> None:
        # Traffic returns to the blue fleet before the green one stops: no request reaches a stopped server.
        self.store.update("endpoints", name, green=None)
        endpoints.discard(green)
        self.store.update(
            "endpoints",
            name,
            EndpointStatus="InService",
            FailureReason=f"Rolled back to the previous endpoint configuration: {reason}"[:1024],
            PendingDeploymentSummary=None,
            **({"LastDeploymentConfig": deployment} if deployment else {}),
        )
