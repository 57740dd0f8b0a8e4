"""The run plan, the scoring plan, the evaluation document and the failure handler's input are each defined
once, as dataclasses beside their writers or readers; the workflows take their JSONPaths (or their event's
fields) from those models. So a field renamed or removed in a model fails the synthesis (or, for a field no
workflow reads, the writer's construction), never a run."""

from __future__ import annotations

import dataclasses
import re
import sys

import pytest
from run_planning.run_plan import plan_run
from run_planning.scoring_plan import plan_scoring
from run_planning.settings import ScoringSettings, Settings

from lambdas.failure_handler.failure_handling import catch_input
from lambdas.prepare_run.run_planning import plan_model
from stacks.config import load_config, run_defaults, scoring_defaults
from stacks.support import documents
from stacks.support.state_paths import UnknownField, checked_parameters, leaves
from tests.conftest import SynthesizedApp, synthesize
from tests.stacks.workflow_definition import definition_of
from training_code import evaluation_document

START = "2026-11-26T04:00:00Z"
DOCUMENTS = {"run": documents.RUN, "scoring": documents.SCORING, "evaluation.report": documents.EVALUATION}
_READ = re.compile(r"\$\.(run|scoring|evaluation\.report)((?:\.[A-Za-z0-9_]+)*)(?![A-Za-z0-9_])")


def _paths_read(template: dict) -> set[tuple[str, str]]:
    found = set()
    for workflow in ("Workflow", "Approval", "Scoring"):
        if any(k.startswith(f"{workflow}StateMachine") for k in template["Resources"]):
            text = str(definition_of(template, workflow))
            found |= {(root, fields.removeprefix(".")) for root, fields in _READ.findall(text)}
    return found


def test_every_path_the_workflows_read_is_a_field_of_its_model(each_env: SynthesizedApp) -> None:
    read = _paths_read(each_env.template("pipeline"))
    assert ("run", "instances.training.InstanceType") in read and ("evaluation.report", "objective.value") in read
    for root, fields in sorted(read):
        DOCUMENTS[root](fields)  # raises UnknownField for a path written by hand past the model


def test_an_unknown_field_names_the_model_and_its_fields() -> None:
    with pytest.raises(UnknownField, match=r"JobInstances .* has no field 'InstanceTypes'; its fields are Instance"):
        documents.RUN("instances.training.InstanceTypes")
    with pytest.raises(UnknownField, match=r"hyperparameters is not a document with fields"):
        documents.RUN("hyperparameters.max_depth")
    assert documents.EVALUATION("objective.value") == "$.evaluation.report.objective.value"  # through `| None`


def test_a_partial_plan_is_checked_field_by_field() -> None:
    """The approval workflow writes the part of a run plan its rollout reads: every key must be a field."""
    plan = {"jobs": {"model": "m"}, "instances": {"endpoint": {"InstanceType": "ml.m5.large"}}}
    assert checked_parameters(plan_model.RunPlan, plan, partial=True) == plan
    with pytest.raises(UnknownField, match=r"JobNames .* has no field 'modle'"):
        checked_parameters(plan_model.RunPlan, {"jobs": {"modle.$": "$.x"}}, partial=True)
    with pytest.raises(UnknownField, match="RunPlan needs id, algorithm"):
        checked_parameters(plan_model.RunPlan, plan)


def _renamed(model: type, field: str) -> type:
    """`model` with `field` called `field_renamed`, as a careless edit of the model would leave it."""
    mutated = dataclasses.make_dataclass(
        model.__name__,
        [
            (f"{f.name}_renamed" if f.name == field else f.name, f.type, dataclasses.field(default=f.default))
            for f in dataclasses.fields(model)
        ],
        frozen=True,
    )
    mutated.__module__ = model.__module__  # its annotations name classes of the model's module
    return mutated


def _rename(monkeypatch: pytest.MonkeyPatch, model: type, field: str) -> None:
    """Rename `field` of `model` wherever the model is bound: its module, imported once as the Lambda does
    (`run_planning.plan_model`) and once as the stacks do, the planners' imports and the documents' roots."""
    # lambdas.prepare_run.run_planning.plan_model is run_planning.plan_model in the function (and its tests)
    as_in_lambda = model.__module__.split(".", 2)[-1] if model.__module__.startswith("lambdas.") else None
    twins = {sys.modules[name] for name in (as_in_lambda, model.__module__) if name in sys.modules}
    for original in {getattr(twin, model.__name__) for twin in twins if hasattr(twin, model.__name__)}:
        mutated = _renamed(original, field)
        for module in list(sys.modules.values()):
            if getattr(module, model.__name__, None) is original:
                monkeypatch.setattr(module, model.__name__, mutated)
        for paths in DOCUMENTS.values():
            if paths.model is original:
                monkeypatch.setattr(paths, "model", mutated)


@pytest.mark.parametrize(
    ("model", "field", "environment"),
    [
        (plan_model.JobInstances, "InstanceType", "prod"),  # $.run.instances.training.InstanceType
        (plan_model.RunPlan, "deploy", "dev"),  # $.run.deploy: prod deploys through its approval workflow
        (evaluation_document.GateMetric, "value", "prod"),  # $.evaluation.report.objective.value
        (plan_model.TransformResources, "InstanceCount", "prod"),  # $.scoring.resources: prod scores in batch
        (catch_input.CatchInput, "step", "dev"),  # the failure handler's input, built by the failure path
        (catch_input.CaughtJob, "name", "dev"),
    ],
)
def test_renaming_a_field_the_workflows_read_fails_the_synthesis(
    monkeypatch: pytest.MonkeyPatch, tmp_path, model: type, field: str, environment: str
) -> None:
    _rename(monkeypatch, model, field)
    with pytest.raises(UnknownField, match=rf"has no field '{field}'"):
        synthesize(environment, tmp_path)


PLAN_FIELDS = leaves(plan_model.RunPlan)
SCORING_FIELDS = leaves(plan_model.ScoringPlan)


@pytest.mark.parametrize(("model", "field", "path"), PLAN_FIELDS, ids=[p for _, _, p in PLAN_FIELDS])
def test_renaming_any_run_plan_field_fails_the_planner(
    monkeypatch: pytest.MonkeyPatch, model: type, field: str, path: str
) -> None:
    settings = Settings("data-bucket", "artifacts-bucket", "endpoint", run_defaults(load_config("dev")))
    _rename(monkeypatch, model, field)
    with pytest.raises(TypeError, match=field):
        plan_run({"data": "s3://data-bucket/d.csv"}, settings, execution_name="e", start_time=START)
    with pytest.raises(UnknownField):
        documents.RUN(path)


@pytest.mark.parametrize(("model", "field", "path"), SCORING_FIELDS, ids=[p for _, _, p in SCORING_FIELDS])
def test_renaming_any_scoring_plan_field_fails_the_planner(
    monkeypatch: pytest.MonkeyPatch, model: type, field: str, path: str
) -> None:
    settings = ScoringSettings("data-bucket", "artifacts-bucket", "group", scoring_defaults(load_config("prod")))
    _rename(monkeypatch, model, field)
    with pytest.raises(TypeError, match=field):
        plan_scoring({"data": "s3://data-bucket/d/"}, settings, execution_name="e", start_time=START)
    with pytest.raises(UnknownField):
        documents.SCORING(path)
