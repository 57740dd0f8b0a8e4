"""The documents the workflows read, each rooted where its state puts it (planning_step, ReadEvaluation)."""

from __future__ import annotations

from lambdas.prepare_run.run_planning.plan_model import RunPlan, ScoringPlan
from stacks.support.state_paths import StatePaths
from training_code.evaluation_document import EvaluationDocument

RUN = StatePaths("$.run", RunPlan)
SCORING = StatePaths("$.scoring", ScoringPlan)
EVALUATION = StatePaths("$.evaluation.report", EvaluationDocument)
