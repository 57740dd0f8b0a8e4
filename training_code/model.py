"""The trained model: preprocessing + estimator + label mapping, with one predict() for serving and evaluation."""

from __future__ import annotations

import numpy as np

from .catalog import ANOMALY, CLASSIFICATION, CLUSTERING, REDUCTION, REGRESSION


class XGBoostEstimator:
    """A fitted xgboost Booster with the sklearn-style calls the Model needs."""

    def __init__(self, booster, objective: str, n_classes: int):
        self.booster = booster
        self.objective = objective
        self.n_classes = n_classes

    def _raw(self, features):
        return self.booster.inplace_predict(features, validate_features=False)

    def predict(self, features):
        out = self._raw(features)
        if self.objective.startswith("binary:"):
            return (out >= 0.5).astype(np.int64)
        if self.objective.startswith("multi:"):
            return np.asarray(out).argmax(axis=1)
        return out

    def predict_proba(self, features):
        out = np.asarray(self._raw(features), dtype=np.float64)
        if self.objective.startswith("binary:"):
            return np.column_stack([1.0 - out, out])
        return out / out.sum(axis=1, keepdims=True)


class TargetScaled:
    """Regressor trained on a standardised target (keeps SGD step sizes sane); predicts in original units."""

    def __init__(self, estimator, mean: float, scale: float):
        self.estimator, self.mean, self.scale = estimator, mean, scale

    def predict(self, features):
        return self.estimator.predict(features) * self.scale + self.mean


class _Step:
    def __init__(self, function):
        self.transform = function


class Model:
    """What model.joblib holds. ``predict`` returns columns for the codecs and the scorers."""

    def __init__(self, task: str, steps: list, estimator, classes=None, accepts_missing: bool = False,
                 n_features: int = 0):
        self.task = task
        self.steps = steps
        self.estimator = estimator
        self.classes = None if classes is None else np.asarray(classes)
        self.accepts_missing = accepts_missing
        self.n_features = n_features

    def transform(self, features: np.ndarray) -> np.ndarray:
        for step in self.steps:
            features = step.transform(features)
        return features

    def fast(self) -> Model:
        """This model with numpy-only inference when the pipeline allows it (see fastpath), else itself."""
        from .fastpath import compile_model

        compiled = compile_model(self)
        if compiled is None:
            return self
        steps, estimator = compiled
        fast = Model(self.task, [_Step(f) for f in steps], estimator, self.classes, self.accepts_missing,
                     self.n_features)
        return fast

    def class_scores(self, features: np.ndarray):
        """Class probabilities (n, classes), or a decision function when the estimator has no probabilities."""
        est = self.estimator
        if hasattr(est, "predict_proba"):
            try:
                return est.predict_proba(features), True
            except AttributeError:
                pass
        return est.decision_function(features), False

    def predict(self, features: np.ndarray) -> dict:
        x = self.transform(features)
        est = self.estimator
        if self.task == CLASSIFICATION:
            scores, is_proba = self.class_scores(x)
            scores = np.asarray(scores, dtype=np.float64)
            if scores.ndim == 1:  # binary decision function
                index = (scores > 0).astype(np.int64)
                score = scores
            elif len(self.classes) == 2:
                index = scores.argmax(axis=1)
                score = scores[:, 1]
            else:
                index = scores.argmax(axis=1)
                score = scores
            return {"predicted_label": self.classes[index], "score": score, "index": index,
                    "scores": scores, "probabilities": is_proba}
        if self.task == REGRESSION:
            return {"score": np.asarray(est.predict(x), dtype=np.float64)}
        if self.task == CLUSTERING:
            distances = est.transform(x)
            cluster = distances.argmin(axis=1)
            return {"closest_cluster": cluster, "distance_to_cluster": distances[np.arange(len(cluster)), cluster]}
        if self.task == ANOMALY:
            score = -est.score_samples(x)  # higher = more anomalous, like Random Cut Forest
            return {"score": score, "predicted_label": (est.predict(x) == -1).astype(np.int64)}
        if self.task == REDUCTION:
            return {"projection": est.transform(x)}
        raise ValueError(f"unknown task {self.task}")
