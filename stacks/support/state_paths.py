"""JSONPaths into the documents a state machine carries, checked against the dataclasses that define them.

The run plan (`$.run`, `$.scoring`), the evaluation document (`$.evaluation.report`) and the failure handler's
input are each defined once, as dataclasses beside the code that writes them. The workflow constructs ask
for their paths here, so a field renamed or removed in a model fails the synthesis, naming the field.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any


class UnknownField(Exception):
    """A workflow reads a field its document's model does not define."""


class StatePaths:
    """`RUN("instances.training.InstanceType")` -> `"$.run.instances.training.InstanceType"`, or UnknownField."""

    def __init__(self, root: str, model: type) -> None:
        self.root = root
        self.model = model

    def __call__(self, fields: str = "") -> str:
        if fields:
            resolve(self.model, fields.split("."), where=f"{self.root}.{fields}")
        return f"{self.root}.{fields}" if fields else self.root

    def fields(self) -> list[str]:
        """Every path to a leaf of the model, e.g. `instances.training.InstanceType`."""
        return [path for _, _, path in leaves(self.model)]


def resolve(model: type, names: list[str], *, where: str) -> Any:
    """The type at `names` inside `model`: only dataclasses have fields to descend into."""
    current: Any = model
    for depth, name in enumerate(names):
        target = _dataclass(current)
        if target is None:
            raise UnknownField(
                f"{where}: {'.'.join(names[:depth])} is not a document with fields, so it has no {name!r}"
            )
        hints = typing.get_type_hints(target)
        if name not in hints:
            raise UnknownField(
                f"{where}: {target.__name__} ({target.__module__}) has no field {name!r}; "
                f"its fields are {', '.join(hints)}. Rename the path or the model's field"
            )
        current = hints[name]
    return current


def leaves(model: type, prefix: str = "") -> list[tuple[type, str, str]]:
    """(the dataclass that holds it, its name, its path) for every leaf field under `model`."""
    found = []
    for name, hint in typing.get_type_hints(model).items():
        nested = _dataclass(hint)
        found.extend(leaves(nested, f"{prefix}{name}.") if nested else [(model, name, f"{prefix}{name}")])
    return found


def checked_parameters(model: type, parameters: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Step Functions Parameters that build an instance of `model`: each key (`name` or `name.$`) a field,
    every field without a default given (unless `partial`: a part of the document, as a state that reads
    only some fields needs); nested dicts checked against nested dataclasses."""
    given = {key.removesuffix(".$"): value for key, value in parameters.items()}
    hints = typing.get_type_hints(model)
    unknown = sorted(set(given) - set(hints))
    if unknown:
        raise UnknownField(
            f"{model.__name__} ({model.__module__}) has no field {', '.join(map(repr, unknown))}; "
            f"its fields are {', '.join(hints)}. Rename the parameter or the model's field"
        )
    required = [] if partial else [f.name for f in dataclasses.fields(model) if _required(f)]
    missing = [name for name in required if name not in given]
    if missing:
        raise UnknownField(f"{model.__name__} needs {', '.join(missing)}: the parameters leave it out")
    for name, value in given.items():
        nested = _dataclass(hints[name])
        if nested and isinstance(value, Mapping):
            checked_parameters(nested, value, partial=partial)
    return dict(parameters)


def _required(field: dataclasses.Field) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _dataclass(hint: Any) -> type | None:
    """The dataclass in `hint`, `X | None` included; None for anything else (str, dict, list...)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _dataclass(options[0]) if len(options) == 1 else None
    return hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None
