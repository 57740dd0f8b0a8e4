"""The run plan: what the prepare-run function returns and every later state reads, under `$.run` (training)
or `$.scoring` (batch scoring).

Defined once, here. The function builds these objects and returns them as JSON (`as_json`); the workflow
constructs take their JSONPaths from these fields (stacks/support/state_paths.py), so a renamed or removed
field fails the synthesis instead of a run. Standard library only: the file ships in the function's bundle.
Fields in CamelCase are SageMaker request fields, handed to its API as they are.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Objective:
    """The quality gate: the run passes when `metric` compares to `threshold` in `goal`'s direction."""

    metric: str
    goal: str  # Maximize or Minimize
    threshold: float


@dataclass(frozen=True)
class TuningObjective:
    MetricName: str
    Type: str


@dataclass(frozen=True)
class Tuning:
    enabled: bool
    strategy: str
    max_jobs: int
    max_parallel_jobs: int
    resource_limits: dict[str, int]  # ResourceLimits: Grid search takes no job count
    early_stopping: str
    objective: TuningObjective
    ranges: dict[str, list[dict[str, Any]]]  # ParameterRanges
    static_hyperparameters: dict[str, str]


@dataclass(frozen=True)
class JobNames:
    process: str
    train: str
    tune: str
    evaluate: str
    model: str
    config: str


@dataclass(frozen=True)
class JobInstances:
    """A processing or training job's ClusterConfig / ResourceConfig."""

    InstanceType: str
    InstanceCount: int
    VolumeSizeInGB: int


@dataclass(frozen=True)
class EndpointInstances:
    InstanceType: str
    InitialInstanceCount: int


@dataclass(frozen=True)
class Instances:
    processing: JobInstances
    training: JobInstances
    endpoint: EndpointInstances


@dataclass(frozen=True)
class TrainingLimits:
    use_spot: bool
    stopping_condition: dict[str, int]  # StoppingCondition


@dataclass(frozen=True)
class JobArguments:
    arguments: list[str]  # the container's command-line arguments (training_code/__main__.py)


@dataclass(frozen=True)
class RunLocations:
    input: str
    run: str
    train: str
    validation: str
    test: str
    baseline: str
    models: str
    checkpoints: str
    evaluation: str
    evaluation_key: str  # the evaluation document's object key in the artifacts bucket
    data_capture: str


@dataclass(frozen=True)
class RunPlan:
    id: str
    algorithm: str
    task: str
    hyperparameters: dict[str, str]  # HyperParameters: every value a string
    objective: Objective
    tuning: Tuning
    jobs: JobNames
    endpoint_name: str
    deploy: bool
    instances: Instances
    training: TrainingLimits
    processing: JobArguments
    evaluation: JobArguments
    s3: RunLocations


@dataclass(frozen=True)
class ScoringJobNames:
    model: str
    transform: str


@dataclass(frozen=True)
class ScoringLocations:
    input: str
    output: str


@dataclass(frozen=True)
class TransformResources:
    InstanceType: str
    InstanceCount: int


@dataclass(frozen=True)
class DataProcessing:
    InputFilter: str
    JoinSource: str
    OutputFilter: str


@dataclass(frozen=True)
class ScoringPlan:
    id: str
    model_package_arn: str | None  # None: the workflow looks up the newest Approved package
    jobs: ScoringJobNames
    s3: ScoringLocations
    resources: TransformResources
    data_processing: DataProcessing


def as_json(plan: RunPlan | ScoringPlan) -> dict[str, Any]:
    """The plan as the state machine receives it from the function."""
    return asdict(plan)
