"""Read the state machine definition out of a synthesized template, and render a task's Parameters
against a sample state, so tests check exactly what Step Functions would send."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from jsonpath_ng.ext import parse as jsonpath

# Stands for a CloudFormation reference resolved at deploy time; long enough for ARN length minimums.
TOKEN = "arn:aws:cfn::123456789012:resolved-at-deploy"
_FORMAT = re.compile(r"^States\.Format\('((?:[^'\\]|\\.)*)'\s*,\s*(.+)\)$")


def definition_of(template: dict, workflow: str = "Workflow") -> dict[str, Any]:
    """The definition of the state machine under construct `workflow` ("Workflow" or "Approval")."""
    (machine,) = [
        r
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::StepFunctions::StateMachine" and k.startswith(f"{workflow}StateMachine")
    ]
    body = machine["Properties"]["DefinitionString"]
    if isinstance(body, dict):
        body = "".join(part if isinstance(part, str) else TOKEN for part in body["Fn::Join"][1])
    return json.loads(body)


def states(definition: dict) -> dict[str, dict]:
    return definition["States"]


def tasks(definition: dict) -> dict[str, dict]:
    return {name: state for name, state in states(definition).items() if state["Type"] == "Task"}


def successors(state: dict) -> set[str]:
    found = {state[k] for k in ("Next", "Default") if k in state}
    found |= {c["Next"] for c in state.get("Choices", [])}
    found |= {c["Next"] for c in state.get("Catch", [])}
    return found


# Step Functions' aws-sdk service names that differ from botocore's (and IAM's) service names.
BOTOCORE_NAMES = {"applicationautoscaling": "application-autoscaling"}


def assert_path(definition: dict, path: list[str]) -> None:
    """Each state of `path` can transition to the next (Next, Choice branch, Default or Catch)."""
    graph = states(definition)
    for here, there in itertools.pairwise(path):
        assert there in successors(graph[here]), f"{here} -> {there}"


def api_of(resource: str) -> tuple[str, str]:
    """`arn:aws:states:::sagemaker:createTrainingJob.sync` -> ("sagemaker", "CreateTrainingJob")."""
    integration = resource.split(":::", 1)[1].removeprefix("aws-sdk:")
    service, action = integration.split(":", 1)
    action = action.split(".", 1)[0]
    return BOTOCORE_NAMES.get(service, service), action[0].upper() + action[1:]


def render(parameters: Any, state: dict, context: dict) -> Any:
    """Resolve `.$` keys with JSONPath (`$$` = the context object) and the intrinsics the workflow uses."""
    if isinstance(parameters, list):
        return [render(item, state, context) for item in parameters]
    if not isinstance(parameters, dict):
        return parameters
    out = {}
    for key, value in parameters.items():
        if key.endswith(".$"):
            out[key[:-2]] = _evaluate(value, state, context)
        else:
            out[key] = render(value, state, context)
    return out


def _evaluate(expression: str, state: dict, context: dict) -> Any:
    if expression.startswith("$$"):
        return _path(expression[1:], context)
    if expression.startswith("$"):
        return _path(expression, state)
    match = _FORMAT.match(expression)
    if match:
        template, args = match.groups()
        values = [_evaluate(a.strip(), state, context) for a in args.split(",")]
        return template.format(*values)
    raise AssertionError(f"unsupported intrinsic in test renderer: {expression}")


def _path(path: str, document: dict) -> Any:
    found = [m.value for m in jsonpath(path).find(document)]
    assert found, f"{path} finds nothing in the sample state"
    return found[0] if "[*]" not in path else found
