"""stacks/contract.py is the one place of the stacks' names and output keys: the templates and the prepare-run
Lambda (packaged alone, so it keeps its own copy of the limits) agree with it."""

from __future__ import annotations

import json

from run_planning import run_input, scoring_plan

from stacks import contract


def test_the_templates_have_every_output_the_contract_names(prod) -> None:
    storage, pipeline = prod.template("storage")["Outputs"], prod.template("pipeline")["Outputs"]
    assert {*contract.STORAGE_OUTPUTS, contract.MODEL_PACKAGE_GROUP_OUTPUT} <= set(storage)
    assert {*contract.PIPELINE_OUTPUTS, contract.APPROVAL_OUTPUT} <= set(pipeline)  # prod approves by hand


def test_the_stack_names_are_the_stages(prod) -> None:
    manifest = json.loads((prod.stage_dir / "manifest.json").read_text())["artifacts"]
    names = tuple(manifest[prod.stack_names[role]]["properties"]["stackName"] for role in ("storage", "pipeline"))
    assert names == contract.stack_names("prod")


def test_the_lambda_checks_the_limits_the_clients_check() -> None:
    tuning = run_input.SCHEMA["properties"]["tuning"]["properties"]
    assert tuple(tuning["strategy"]["enum"]) == contract.STRATEGIES
    assert tuning["max_jobs"]["maximum"] == contract.MAX_JOBS
    assert tuning["max_parallel_jobs"]["maximum"] == contract.MAX_PARALLEL
    assert tuple(run_input.SCHEMA["properties"]["instance_types"]["properties"]) == contract.INSTANCE_KINDS
    assert scoring_plan.SCHEMA["properties"]["instance_count"]["maximum"] == contract.MAX_SCORING_INSTANCES
