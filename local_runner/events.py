"""The template's EventBridge rules that start state machines, matched against events the local cloud emits.

Only what the pipeline's rules use: event patterns of value lists and `{"prefix": ...}` matchers, and
targets with a constant `Input` or an `InputTransformer`. Used for the approval rule: approving a model
package locally starts the approval workflow exactly as the deployed rule would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jsonpath_ng.ext import parse as jsonpath

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")


@dataclass(frozen=True)
class Target:
    arn: str
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
    def __init__(self, start_execution: Callable[[str, dict[str, Any]], str]) -> None:
        self._start = start_execution
        self.rules: list[Rule] = []

    def add(self, rule: Rule) -> None:
        self.rules.append(rule)

    def put_event(self, event: dict[str, Any]) -> list[str]:
        """Start every target of every matching rule; returns the executions started."""
        started = []
        for rule in self.rules:
            if matches(rule.pattern, event):
                started += [self._start(target.arn, target.render(event)) for target in rule.targets]
        return started
