"""The template's EventBridge rules that start state machines, matched against events the local cloud emits.

Only what the pipeline's rules use: event patterns of value lists and `{"prefix": ...}` matchers, and
targets with a constant `Input` or an `InputTransformer`. Used for the approval rule: approving a model
package locally starts the approval workflow exactly as the deployed rule would.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from jsonpath_ng.ext import parse as jsonpath

from .permissions import Authorizer, Principal, acting_as, requests_for
from .validation import ServiceError

_log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")


@dataclass(frozen=True)
class Target:
    arn: str
    role_arn: str | None = None  # EventBridge assumes it to start a state machine
    dead_letter_arn: str | None = None  # an SQS queue for events it could not deliver
    constant_input: str | None = None
    paths: dict[str, str] | None = None
    template: str | None = None

    def render(self, event: dict[str, Any]) -> dict[str, Any]:
        if self.template is None:
            return json.loads(self.constant_input) if self.constant_input else event
        values = {name: _first(path, event) for name, path in (self.paths or {}).items()}
        return json.loads(_fill(self.template, values))


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: dict[str, Any]
    targets: tuple[Target, ...]
    arn: str = ""


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    for key, expected in pattern.items():
        actual = event.get(key)
        if isinstance(expected, dict):
            if not isinstance(actual, dict) or not matches(expected, actual):
                return False
        elif not any(_matches_one(option, actual) for option in expected):
            return False
    return True


def _matches_one(option: Any, actual: Any) -> bool:
    if isinstance(option, dict) and "prefix" in option:
        return isinstance(actual, str) and actual.startswith(option["prefix"])
    return option == actual


def _first(path: str, event: dict[str, Any]) -> Any:
    found = [m.value for m in jsonpath(path).find(event)]
    return found[0] if found else None


def _fill(template: str, values: dict[str, Any]) -> str:
    """EventBridge semantics: a placeholder inside a JSON string is replaced by the raw text; elsewhere
    by the value as JSON."""
    out, position = [], 0
    for match in _PLACEHOLDER.finditer(template):
        before = template[position : match.start()]
        out.append(before)
        inside_string = _open_quotes("".join(out)) % 2 == 1
        value = values.get(match.group(1))
        out.append(str(value) if inside_string else json.dumps(value))
        position = match.end()
    out.append(template[position:])
    return "".join(out)


def _open_quotes(text: str) -> int:
    return len(re.findall(r'(?<!\\)"', text))


class LocalEventBus:
    """Delivers as EventBridge does: a state machine target is started as the target's role; an event it
    cannot deliver goes to the target's dead-letter queue as events.amazonaws.com (the queue's policy and
    its key's policy must allow that), or is lost, as on AWS, with an error in the log."""

    def __init__(self, start_execution: Callable[[str, dict[str, Any]], str]) -> None:
        self._start = start_execution
        self.rules: list[Rule] = []
        self.authorizer: Authorizer | None = None
        self.lost: list[tuple[str, str, str]] = []  # (rule, target, why) of events neither delivered nor dead-lettered
        self.dead_lettered: list[tuple[str, str]] = []  # (rule, queue)

    def add(self, rule: Rule) -> None:
        self.rules.append(rule)

    def put_event(self, event: dict[str, Any]) -> list[str]:
        """Start every target of every matching rule; returns the executions started."""
        started = []
        for rule in self.rules:
            if matches(rule.pattern, event):
                for target in rule.targets:
                    execution = self._deliver(rule, target, event)
                    if execution is not None:
                        started.append(execution)
        return started

    def _deliver(self, rule: Rule, target: Target, event: dict[str, Any]) -> str | None:
        try:
            if self.authorizer is not None:
                role = Principal(target.role_arn, session="events") if target.role_arn else None
                if role is None:
                    raise ServiceError("AccessDeniedException", f"the target {target.arn} has no RoleArn to start it")
                start = {"stateMachineArn": target.arn}
                self.authorizer.check(
                    "states", role, requests_for("stepfunctions", "StartExecution", start, self.authorizer.store)
                )
            return self._start(target.arn, target.render(event))
        except ServiceError as error:
            self._dead_letter(rule, target, event, error.message)
            return None

    def _dead_letter(self, rule: Rule, target: Target, event: dict[str, Any], why: str) -> None:
        if target.dead_letter_arn is None:
            self._lose(rule, target, why)
            return
        if self.authorizer is not None:
            try:
                events = Principal("events.amazonaws.com", source_arn=rule.arn)
                self.authorizer.check_delivery("sqs", events, "sqs:SendMessage", target.dead_letter_arn)
            except ServiceError as denied:
                self._lose(rule, target, f"{why}; and its dead-letter queue refused it: {denied.message}")
                return
        queue = target.dead_letter_arn.rsplit(":", 1)[-1]
        with acting_as(None):  # EventBridge's own delivery, authorized above
            sqs = boto3.client("sqs", region_name=target.dead_letter_arn.split(":")[3])
            sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"], MessageBody=json.dumps(event))
        self.dead_lettered.append((rule.name, target.dead_letter_arn))

    def _lose(self, rule: Rule, target: Target, why: str) -> None:
        _log.error(
            "EventBridge rule %s could not deliver an event to %s, which is lost: %s", rule.name, target.arn, why
        )
        self.lost.append((rule.name, target.arn, why))
