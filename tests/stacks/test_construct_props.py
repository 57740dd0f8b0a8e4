"""Constructs take what they use: narrow, typed keyword properties, so a construct's dependencies show in its
signature. None takes the whole configuration (AppConfig); the stacks read it and pass each construct its part."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing

from constructs import Construct

import stacks.components
from stacks.config import AppConfig


def _constructs() -> list[type]:
    found = []
    for module_info in pkgutil.walk_packages(stacks.components.__path__, "stacks.components."):
        module = importlib.import_module(module_info.name)
        found += [
            member
            for _, member in inspect.getmembers(module, inspect.isclass)
            if issubclass(member, Construct) and member.__module__ == module.__name__
        ]
    return found


def test_no_construct_takes_the_whole_configuration() -> None:
    constructs = _constructs()
    assert {"PipelineFunctions", "PipelineWorkflow", "ScoringWorkflow"} <= {c.__name__ for c in constructs}
    for construct in constructs:
        hints = typing.get_type_hints(construct.__init__)
        given = [name for name, hint in hints.items() if hint is AppConfig]
        assert not given, f"{construct.__name__}({', '.join(given)}: AppConfig): pass the settings it uses instead"
