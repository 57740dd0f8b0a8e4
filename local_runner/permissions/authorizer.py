"""Authorize calls against the assembly's policies with PMapper's local policy simulation.

PMapper (NCC Group's principalmapper) implements IAM's documented evaluation logic: an explicit Deny in any
policy wins; a resource policy that names the principal allows on its own in the same account; KMS keys
(and IAM roles) must be allowed by their key policy even in the same account, where a statement for the
account's root delegates to identity policies; otherwise an identity policy must allow. It evaluates Action
and NotAction, Resource and NotResource, Principal and NotPrincipal, wildcards, policy variables and every
condition operator (with IfExists and ForAllValues/ForAnyValue). moto's own evaluator
(`moto.iam.access_control`) was the first candidate; it lacks resource policies, service principals and every
condition operator but StringEquals, which the templates' policies rely on.

A service principal (events.amazonaws.com delivering to a queue) is allowed only by resource policies:
the destination's, and the key policy of the key that encrypts it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..validation import ServiceError
from .pmapper import (
    CaseInsensitiveDict,
    Node,
    Policy,
    ResourcePolicyEvalResult,
    local_check_authorization_full,
    simulation,
)
from .policies import PolicyStore
from .principals import Principal, current
from .requests import Request, requests_for

# the error each service answers a denied call with (botocore's modeled or documented codes)
_DENIED = {
    "s3": ("AccessDenied", 403),
    "sns": ("AuthorizationError", 403),
    "sqs": ("AccessDenied", 403),
    "cloudwatch": ("AccessDenied", 403),
    "lambda": ("AccessDeniedException", 403),
}


@dataclass(frozen=True)
class Decision:
    principal: Principal
    request: Request
    allowed: bool
    why: str = ""


class AccessDenied(ServiceError):
    def __init__(self, service: str, principal: Principal, request: Request, why: str, describe: Callable[[str], str]):
        code, status = _DENIED.get(service, ("AccessDeniedException", 400))
        message = (
            f"User: {principal.caller} is not authorized to perform: {request.action} on resource: "
            f"{request.resource} {why}"
        )
        if not principal.is_service:
            message += f" [principal: {describe(principal.arn)}]"
        if request.reason:
            message += f" [implicit: {request.reason}]"
        super().__init__(code, message, status)
        self.principal, self.request = principal, request


class Authorizer:
    """Checks each call against the store; records every decision (for tests and the run's summary)."""

    def __init__(self, store: PolicyStore, *, enabled: bool = True):
        self.store = store
        self.enabled = enabled
        self.decisions: list[Decision] = []
        self._lock = threading.Lock()
        self._nodes: dict[str, Node] = {}

    def use(self, store: PolicyStore) -> None:
        """Authorize against other policies from now on (a test's mutated copy)."""
        self.store = store
        self._nodes.clear()

    # -- entry points ------------------------------------------------------------
    def check_call(self, service: str, operation: str, params: dict[str, Any]) -> None:
        """Authorize an API call as the current principal; raise AccessDenied as the service would."""
        principal = current()
        if principal is None:
            return
        self.check(service, principal, requests_for(service, operation, params, self.store))

    def check(self, service: str, principal: Principal, requests: list[Request]) -> None:
        for request in requests:
            allowed, why = self.evaluate(principal, request)
            with self._lock:
                self.decisions.append(Decision(principal, request, allowed, why))
            if not allowed and self.enabled:
                raise AccessDenied(service, principal, request, why, self.store.describe)

    def check_delivery(self, service: str, principal: Principal, action: str, destination: str) -> None:
        """A service principal writing to a destination: its resource policy and, if the destination is
        encrypted, the key policy (GenerateDataKey and Decrypt, as SNS, SQS and Logs use the key)."""
        context = {"aws:SourceAccount": self.store.account, "aws:SecureTransport": "true"}
        if principal.source_arn:
            context["aws:SourceArn"] = principal.source_arn
        requests = [Request(action, destination, context)]
        key = self.store.encryption.get(destination)
        if key:
            via = {**context, "kms:ViaService": f"{service}.{self.store.region}.amazonaws.com"}
            reason = f"{principal.arn} writes to {destination}, which {key} encrypts"
            requests += [Request(a, key, via, reason) for a in ("kms:GenerateDataKey", "kms:Decrypt")]
        self.check(service, principal, requests)

    # -- evaluation -------------------------------------------------------------------
    def evaluate(self, principal: Principal, request: Request) -> tuple[bool, str]:
        policy = self._resource_policy(request.resource)
        context = CaseInsensitiveDict(dict(request.context))
        if principal.is_service:
            if policy is None:
                return False, f"because no resource-based policy allows the {request.action} action"
            result = simulation.resource_policy_authorization(
                principal.arn, self.store.account, policy, request.action, request.resource, context
            )
            if result is ResourcePolicyEvalResult.SERVICE_MATCH:
                return True, ""
            if result is ResourcePolicyEvalResult.DENY_MATCH:
                return False, "with an explicit deny in a resource-based policy"
            return False, f"because no resource-based policy allows the {request.action} action"
        node = self._node(principal.arn)
        allowed = local_check_authorization_full(
            node,
            request.action,
            request.resource,
            dict(request.context),
            resource_policy=policy,
            resource_owner=self.store.account if policy is not None else None,
        )
        if allowed:
            return True, ""
        return False, self._why(node, request, policy, context)

    def _why(self, node: Node, request: Request, policy: dict | None, context: CaseInsensitiveDict) -> str:
        """The reason in AWS's words, for the first rule that denied."""
        for document in node.attached_policies:
            if simulation.policy_has_matching_statement(document, "Deny", request.action, request.resource, context):
                return "with an explicit deny in an identity-based policy"
        if policy is not None:
            result = simulation.resource_policy_authorization(
                node, self.store.account, policy, request.action, request.resource, context
            )
            if result is ResourcePolicyEvalResult.DENY_MATCH:
                return "with an explicit deny in a resource-based policy"
            if request.resource.startswith("arn:aws:kms:") and result is ResourcePolicyEvalResult.NO_MATCH:
                return f"because no resource-based policy allows the {request.action} action"
        return f"because no identity-based policy allows the {request.action} action"

    def _resource_policy(self, resource: str) -> dict | None:
        documents = self.store.resource.get(resource)
        if documents is None and resource.startswith("arn:aws:s3:::") and "/" in resource[13:]:
            documents = self.store.resource.get(resource.split("/", 1)[0])  # an object: its bucket's policy
        if not documents:
            return None
        return {"Version": "2012-10-17", "Statement": [s for d in documents for s in d.statements]}

    def _node(self, role_arn: str) -> Node:
        node = self._nodes.get(role_arn)
        if node is None:
            policies = [
                Policy(f"{role_arn}#{d.origin_id}", d.origin_id, d.as_policy())
                for d in self.store.identity.get(role_arn, [])
            ]
            node = Node(
                role_arn,
                "AROALOCAL" + role_arn.rsplit("/", 1)[-1][:12].upper(),
                policies,
                None,
                {"Version": "2012-10-17", "Statement": []},
                None,
                0,
                False,
                False,
                None,
                False,
                None,
            )
            self._nodes[role_arn] = node
        return node

    def denied(self) -> list[Decision]:
        return [d for d in self.decisions if not d.allowed]
