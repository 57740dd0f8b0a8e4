"""moto's ASL parser with its parse trees kept: a definition is lexed and parsed by ANTLR once per process.

moto parses a definition when the state machine is created (to validate it) and again for every execution.
ANTLR's parse was about a fifth of a local run's in-process CPU, and the same few definitions are parsed
again and again. The tree is read-only once built; each call still gets a fresh Program from the
Preprocessor, so executions share no evaluation state. A definition with syntax errors is never kept.

Creating a state machine validates its definition by building a whole program and discarding it (the
Preprocessor's walk, about 4% of a test worker's CPU): a definition that passed once is not built again.
"""

from __future__ import annotations

import functools

from antlr4 import CommonTokenStream, InputStream, ParserRuleContext
from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse import asl_parser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

_validate = StepFunctionsParserBackend._validate_definition  # moto's, which raises InvalidDefinition


@functools.lru_cache(maxsize=128)
def _tree(definition: str) -> ParserRuleContext:
    listener = asl_parser.SyntaxErrorListener()
    parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    tree = parser.state_machine()
    if listener.errors:
        raise asl_parser.ASLParserException(errors=listener.errors)  # raised, so lru_cache keeps nothing
    return tree


def parse(definition: str) -> tuple[EvalComponent, ParserRuleContext]:
    """AmazonStateLanguageParser.parse, from the kept tree."""
    tree = _tree(definition)
    return Preprocessor().visit(tree), tree


@functools.lru_cache(maxsize=128)
def _validated(definition: str) -> bool:
    _validate(definition)  # raises for an invalid definition, so lru_cache keeps only the valid ones
    return True


def validate(definition: str) -> None:
    """StepFunctionsParserBackend._validate_definition, once per valid definition."""
    _validated(definition)


def install() -> None:
    asl_parser.AmazonStateLanguageParser.parse = staticmethod(parse)
    StepFunctionsParserBackend._validate_definition = staticmethod(validate)
