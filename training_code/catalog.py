"""The algorithm registry: names, tasks, typed hyperparameters, tuning ranges (stdlib only).

``ALGORITHMS[name]`` is a plain dict, so the CDK app can build HyperParameterTuningJob
``ParameterRanges`` from ``tuning`` (``IntegerParameterRanges``, ``ContinuousParameterRanges``,
``CategoricalParameterRanges``) without importing anything heavy.
"""

from __future__ import annotations

import copy

from . import metrics

CLASSIFICATION = "classification"
REGRESSION = "regression"
CLUSTERING = "clustering"
ANOMALY = "anomaly_detection"
REDUCTION = "dimensionality_reduction"

_OBJECTIVE = {
    CLASSIFICATION: "validation:accuracy",
    REGRESSION: "validation:rmse",
    CLUSTERING: "validation:msd",
    ANOMALY: "validation:roc_auc",
    REDUCTION: "validation:explained_variance_ratio",
}
_EMITS = {
    CLASSIFICATION: ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"],
    REGRESSION: ["rmse", "mae", "r2"],
    CLUSTERING: ["msd", "inertia", "silhouette"],
    ANOMALY: ["roc_auc", "anomaly_rate"],
    REDUCTION: ["explained_variance_ratio"],
}


def _integer(name, default, minimum, maximum=None, tune=None, scaling="Linear", doc=""):
    spec = {"name": name, "type": "integer", "default": default, "min": minimum, "max": maximum, "description": doc}
    if tune:
        spec["tuning"] = {"min": tune[0], "max": tune[1], "scaling": scaling}
    return spec


def _continuous(name, default, minimum, maximum=None, tune=None, scaling="Linear", doc="",
                min_exclusive=False):
    spec = {"name": name, "type": "continuous", "default": default, "min": minimum, "max": maximum,
            "min_exclusive": min_exclusive, "description": doc}
    if tune:
        spec["tuning"] = {"min": tune[0], "max": tune[1], "scaling": scaling}
    return spec


def _categorical(name, default, choices, tune=False, doc=""):
    spec = {"name": name, "type": "categorical", "default": default, "choices": list(choices), "description": doc}
    if tune:
        spec["tuning"] = {"values": list(choices)}
    return spec


def _bool(name, default, doc=""):
    return _categorical(name, "true" if default else "false", ["true", "false"], doc=doc)


_SEED = _integer("seed", 0, 0, 2**31 - 1, doc="Random seed (same seed, same data: same model).")
_STANDARDIZE_ON = _bool("standardize", True, "Scale features to zero mean, unit variance inside the model.")
_STANDARDIZE_OFF = _bool("standardize", False, "Scale features to zero mean, unit variance inside the model.")
_MAX_DEPTH_0 = _integer("max_depth", 0, 0, 1000, tune=(2, 30), doc="Maximum tree depth; 0 = unlimited.")
_FOREST = [
    _integer("n_estimators", 100, 1, 5000, tune=(10, 500), scaling="Logarithmic", doc="Number of trees."),
    _MAX_DEPTH_0,
    _integer("min_samples_leaf", 1, 1, 100000, tune=(1, 20), doc="Minimum samples per leaf."),
]
_BOOSTING = [
    _integer("n_estimators", 100, 1, 5000, tune=(20, 500), scaling="Logarithmic", doc="Boosting stages."),
    _continuous("learning_rate", 0.1, 0.0, 1.0, tune=(0.01, 0.5), scaling="Logarithmic",
                doc="Shrinkage per stage.", min_exclusive=True),
    _integer("max_depth", 3, 1, 100, tune=(2, 8), doc="Depth of each tree."),
    _continuous("subsample", 1.0, 0.0, 1.0, tune=(0.5, 1.0), doc="Row fraction per stage.", min_exclusive=True),
    _integer("stages_per_epoch", 10, 1, 5000, doc="Stages between metric lines and checkpoints."),
]


def _algo(name, task, summary, hyperparameters, iterative=False, library="scikit-learn", tasks=None):
    return {
        "name": name,
        "task": task,
        "tasks": tasks or [task],
        "summary": summary,
        "library": library,
        "iterative": iterative,
        "objective_metric": _OBJECTIVE[task],
        "metrics": [f"{c}:{m}" for c in metrics.CHANNELS for t in (tasks or [task]) for m in _EMITS[t]]
        + (["train:loss"] if iterative else []),
        "hyperparameters": {h["name"]: h for h in [_SEED, *hyperparameters]},
    }


_LIST = [
    _algo("kmeans", CLUSTERING, "k-means with mini-batches (SageMaker k-means names).", [
        _integer("k", 8, 2, 100000, tune=(2, 30), doc="Number of clusters."),
        _categorical("init_method", "kmeans++", ["kmeans++", "random"], tune=True, doc="Centroid initialisation."),
        _integer("mini_batch_size", 5000, 1, 10_000_000, tune=(100, 10000), scaling="Logarithmic",
                 doc="Rows per mini-batch."),
        _integer("epochs", 10, 1, 10000, tune=(1, 50), doc="Passes over the data."),
        _integer("feature_dim", 0, 0, 10_000_000, doc="Expected feature count; 0 = take it from the data."),
        _STANDARDIZE_OFF,
    ], iterative=True),
    _algo("linear-learner", CLASSIFICATION, "SGD linear model (SageMaker linear-learner names).", [
        _categorical("predictor_type", "binary_classifier",
                     ["binary_classifier", "multiclass_classifier", "regressor"],
                     doc="binary_classifier, multiclass_classifier or regressor."),
        _integer("epochs", 15, 1, 10000, tune=(5, 100), doc="Passes over the data."),
        _continuous("learning_rate", 0.01, 0.0, 10.0, tune=(1e-4, 1.0), scaling="Logarithmic",
                    doc="Initial SGD step size.", min_exclusive=True),
        _continuous("l1", 0.0, 0.0, 1e6, tune=(1e-7, 1.0), scaling="Logarithmic", doc="L1 regularisation."),
        _continuous("wd", 0.0001, 0.0, 1e6, tune=(1e-7, 1.0), scaling="Logarithmic",
                    doc="Weight decay (L2 regularisation)."),
        _integer("mini_batch_size", 1000, 1, 10_000_000, tune=(100, 5000), scaling="Logarithmic",
                 doc="Rows per mini-batch."),
        _integer("num_classes", 0, 0, 1_000_000, doc="Expected class count (multiclass); 0 = from the data."),
        _integer("feature_dim", 0, 0, 10_000_000, doc="Expected feature count; 0 = take it from the data."),
        _STANDARDIZE_ON,
    ], iterative=True, tasks=[CLASSIFICATION, REGRESSION]),
    _algo("linear-regression", REGRESSION, "Ordinary least squares.", [
        _bool("fit_intercept", True, "Fit an intercept."), _STANDARDIZE_OFF]),
    _algo("logistic-regression", CLASSIFICATION, "Logistic regression (L2).", [
        _continuous("C", 1.0, 0.0, 1e9, tune=(1e-3, 1e3), scaling="Logarithmic",
                    doc="Inverse regularisation strength.", min_exclusive=True),
        _integer("max_iter", 200, 1, 100000, doc="Solver iterations."), _STANDARDIZE_ON]),
    _algo("ridge", REGRESSION, "Least squares with L2 penalty.", [
        _continuous("alpha", 1.0, 0.0, 1e9, tune=(1e-3, 1e3), scaling="Logarithmic", doc="Penalty strength."),
        _STANDARDIZE_ON]),
    _algo("lasso", REGRESSION, "Least squares with L1 penalty.", [
        _continuous("alpha", 1.0, 0.0, 1e9, tune=(1e-3, 1e2), scaling="Logarithmic", doc="Penalty strength.",
                    min_exclusive=True),
        _integer("max_iter", 1000, 1, 1000000, doc="Coordinate-descent iterations."), _STANDARDIZE_ON]),
    _algo("elastic-net", REGRESSION, "Least squares with L1 + L2 penalty.", [
        _continuous("alpha", 1.0, 0.0, 1e9, tune=(1e-3, 1e2), scaling="Logarithmic", doc="Penalty strength.",
                    min_exclusive=True),
        _continuous("l1_ratio", 0.5, 0.0, 1.0, tune=(0.05, 1.0), doc="Share of L1 in the penalty."),
        _integer("max_iter", 1000, 1, 1000000, doc="Coordinate-descent iterations."), _STANDARDIZE_ON]),
    _algo("random-forest", CLASSIFICATION, "Random forest classifier.", [
        *_FOREST, _categorical("max_features", "sqrt", ["sqrt", "log2", "all"], tune=True,
                               doc="Features considered per split.")]),
    _algo("random-forest-regressor", REGRESSION, "Random forest regressor.", [
        *_FOREST, _categorical("max_features", "all", ["sqrt", "log2", "all"], tune=True,
                               doc="Features considered per split.")]),
    _algo("gradient-boosting", CLASSIFICATION, "Gradient-boosted trees classifier.", _BOOSTING, iterative=True),
    _algo("gradient-boosting-regressor", REGRESSION, "Gradient-boosted trees regressor.", _BOOSTING,
          iterative=True),
    _algo("xgboost", REGRESSION, "XGBoost (SageMaker XGBoost names; task follows `objective`).", [
        _categorical("objective", "reg:squarederror",
                     ["reg:squarederror", "reg:absoluteerror", "binary:logistic", "multi:softprob"],
                     doc="Learning task; binary:logistic / multi:softprob make a classifier."),
        _integer("num_round", 100, 1, 100000, tune=(20, 500), scaling="Logarithmic", doc="Boosting rounds."),
        _integer("max_depth", 6, 0, 100, tune=(2, 10), doc="Tree depth."),
        _continuous("eta", 0.3, 0.0, 1.0, tune=(0.01, 0.5), scaling="Logarithmic", doc="Step size shrinkage."),
        _continuous("subsample", 1.0, 0.0, 1.0, tune=(0.5, 1.0), doc="Row fraction per tree.",
                    min_exclusive=True),
        _continuous("colsample_bytree", 1.0, 0.0, 1.0, tune=(0.5, 1.0), doc="Column fraction per tree.",
                    min_exclusive=True),
        _continuous("min_child_weight", 1.0, 0.0, 1e6, tune=(0.1, 20), scaling="Logarithmic",
                    doc="Minimum hessian per child."),
        _continuous("gamma", 0.0, 0.0, 1e6, tune=(1e-4, 5.0), scaling="Logarithmic", doc="Split loss threshold."),
        _continuous("alpha", 0.0, 0.0, 1e6, tune=(1e-4, 10.0), scaling="Logarithmic", doc="L1 on weights."),
        _continuous("lambda", 1.0, 0.0, 1e6, tune=(1e-3, 10.0), scaling="Logarithmic", doc="L2 on weights."),
        _integer("early_stopping_rounds", 0, 0, 100000, doc="Stop after this many rounds without validation "
                                                            "improvement; 0 = off."),
        _categorical("external_memory", "auto", ["auto", "true", "false"],
                     doc="Train from an external-memory iterator over the channel's files (bounded memory); "
                         "auto: when the channel is larger than the in-memory share of the instance's memory."),
    ], iterative=True, library="xgboost", tasks=[REGRESSION, CLASSIFICATION]),
    _algo("knn", CLASSIFICATION, "k-nearest neighbours (SageMaker k-NN names).", [
        _integer("k", 5, 1, 10000, tune=(1, 50), doc="Neighbours consulted."),
        _categorical("predictor_type", "classifier", ["classifier", "regressor"], doc="classifier or regressor."),
        _categorical("weights", "uniform", ["uniform", "distance"], tune=True, doc="Neighbour weighting."),
        _STANDARDIZE_ON,
    ], tasks=[CLASSIFICATION, REGRESSION]),
    _algo("pca", REDUCTION, "Principal component analysis (SageMaker PCA names).", [
        _integer("num_components", 2, 1, 100000, tune=(1, 50), doc="Components kept."),
        _categorical("algorithm_mode", "regular", ["regular", "randomized"], doc="Exact or randomised SVD."),
        _STANDARDIZE_ON]),
    _algo("naive-bayes", CLASSIFICATION, "Gaussian naive Bayes.", [
        _continuous("var_smoothing", 1e-9, 0.0, 1.0, tune=(1e-12, 1e-2), scaling="Logarithmic",
                    doc="Variance added for stability.")]),
    _algo("linear-svm", CLASSIFICATION, "Linear support vector machine.", [
        _continuous("C", 1.0, 0.0, 1e9, tune=(1e-3, 1e3), scaling="Logarithmic",
                    doc="Inverse regularisation strength.", min_exclusive=True),
        _integer("max_iter", 2000, 1, 1000000, doc="Solver iterations."), _STANDARDIZE_ON]),
    _algo("decision-tree", CLASSIFICATION, "Decision tree classifier.", [
        _MAX_DEPTH_0,
        _integer("min_samples_leaf", 1, 1, 100000, tune=(1, 20), doc="Minimum samples per leaf."),
        _categorical("criterion", "gini", ["gini", "entropy", "log_loss"], tune=True, doc="Split quality.")]),
    _algo("isolation-forest", ANOMALY, "Isolation forest (the Random Cut Forest role): anomaly scores.", [
        _integer("num_trees", 100, 1, 5000, tune=(50, 500), doc="Number of trees."),
        _integer("num_samples_per_tree", 256, 2, 10_000_000, tune=(64, 2048), scaling="Logarithmic",
                 doc="Rows drawn per tree."),
        _continuous("contamination", 0.1, 0.0, 0.5, tune=(0.01, 0.3), doc="Expected anomaly share (sets the "
                    "threshold for predicted_label).", min_exclusive=True)]),
]

#: Algorithms with a distributed engine (XGBoost's collective); the others train on one instance only.
DISTRIBUTED_ALGORITHMS = ("xgboost",)
#: Algorithms that can train without holding the channel in memory (training_code/streaming.py).
STREAMING_ALGORITHMS = ("xgboost", "linear-learner")


def single_instance_refusal(algorithm: str, instance_count: int) -> str | None:
    """Why `instance_count` instances cannot train `algorithm`, or None when they can."""
    if instance_count <= 1 or algorithm in DISTRIBUTED_ALGORITHMS:
        return None
    return (f"algorithm {algorithm!r} trains on one instance only, but the job has {instance_count} "
            f"(InstanceCount); set InstanceCount to 1, or pick an algorithm that distributes: "
            f"{', '.join(DISTRIBUTED_ALGORITHMS)}")


#: Registry name -> description (plain, JSON-serialisable dicts).
ALGORITHMS: dict[str, dict] = {a["name"]: a for a in _LIST}


def catalog() -> dict:
    """A deep copy of the registry, as printed by ``python -m training_code algorithms --json``."""
    return {"algorithms": copy.deepcopy(list(ALGORITHMS.values())), "metric_goals": dict(metrics.METRIC_GOALS)}


def task_for(name: str, hyperparameters: dict) -> str:
    """The task an algorithm performs with these (typed) hyperparameters."""
    if name == "linear-learner":
        return REGRESSION if hyperparameters.get("predictor_type") == "regressor" else CLASSIFICATION
    if name == "knn":
        return REGRESSION if hyperparameters.get("predictor_type") == "regressor" else CLASSIFICATION
    if name == "xgboost":
        return CLASSIFICATION if str(hyperparameters.get("objective", "")).startswith(("binary:", "multi:")) \
            else REGRESSION
    return ALGORITHMS[name]["task"]


def objective_metric(name: str, hyperparameters: dict | None = None) -> str:
    """The default tuning objective (a ``validation:*`` metric that training emits)."""
    return _OBJECTIVE[task_for(name, hyperparameters or {})]


def parameter_ranges(name: str) -> dict:
    """HyperParameterTuningJob ``ParameterRanges`` over each tunable hyperparameter's range."""
    ranges = {"IntegerParameterRanges": [], "ContinuousParameterRanges": [], "CategoricalParameterRanges": []}
    for spec in ALGORITHMS[name]["hyperparameters"].values():
        tune = spec.get("tuning")
        if not tune:
            continue
        if spec["type"] == "categorical":
            ranges["CategoricalParameterRanges"].append({"Name": spec["name"], "Values": tune["values"]})
        else:
            key = "IntegerParameterRanges" if spec["type"] == "integer" else "ContinuousParameterRanges"
            ranges[key].append({"Name": spec["name"], "MinValue": str(tune["min"]), "MaxValue": str(tune["max"]),
                                "ScalingType": tune["scaling"]})
    return ranges
