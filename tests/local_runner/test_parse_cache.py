"""The ASL parse trees kept per definition: each parse still yields its own program; syntax errors are never kept."""

from __future__ import annotations

import json

import pytest
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

from local_runner import interpreter, parse_cache

DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})


def test_a_definition_is_parsed_once_and_each_call_gets_a_fresh_program():
    interpreter.install()
    parse_cache._tree.cache_clear()
    first, tree = AmazonStateLanguageParser.parse(DEFINITION)
    second, again = AmazonStateLanguageParser.parse(DEFINITION)
    assert again is tree and first is not second
    assert parse_cache._tree.cache_info().hits == 1


def test_a_definition_with_a_syntax_error_is_refused_every_time():
    interpreter.install()
    broken = DEFINITION.replace('"Type": "Pass"', '"Type": "Passs"')
    kept = parse_cache._tree.cache_info().currsize
    for _ in range(2):
        with pytest.raises(ASLParserException):
            AmazonStateLanguageParser.parse(broken)
    assert parse_cache._tree.cache_info().currsize == kept


def test_a_valid_definition_is_validated_once_and_an_invalid_one_refused_every_time():
    from moto.stepfunctions.parser.api import InvalidDefinition
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    interpreter.install()
    parse_cache._validated.cache_clear()
    for _ in range(2):
        StepFunctionsParserBackend._validate_definition(DEFINITION)
    assert parse_cache._validated.cache_info().hits == 1
    broken = DEFINITION.replace('"Type": "Pass"', '"Type": "Passs"')
    for _ in range(2):
        with pytest.raises(InvalidDefinition):
            StepFunctionsParserBackend._validate_definition(broken)
    assert parse_cache._validated.cache_info().currsize == 1
