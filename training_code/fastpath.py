"""Numpy-only prediction for linear models behind imputer/scaler steps.

scikit-learn re-validates every call (about 150 us for one row); for the common linear pipelines the same
arithmetic in numpy takes a few microseconds. ``compile_model`` returns None for anything else, and tests
check that results equal scikit-learn's.
"""

from __future__ import annotations

import numpy as np


def _transformer(step):
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    if type(step) is StandardScaler:
        mean = step.mean_ if step.with_mean and step.mean_ is not None else None
        scale = step.scale_ if step.with_std and step.scale_ is not None else None

        def scaler(x):
            if mean is not None:
                x = x - mean
            if scale is not None:
                x = x / scale
            return x
        return scaler
    if type(step) is SimpleImputer and step.strategy in ("mean", "median") and np.isnan(step.missing_values) \
            and not step.add_indicator and len(step.statistics_) == step.n_features_in_:
        fill = step.statistics_

        def imputer(x):
            missing = np.isnan(x)
            if missing.any():
                x = np.where(missing, fill, x)
            return x
        return imputer
    return None


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _expit(z):
    from scipy.special import expit

    return expit(z)


def _estimator(est):
    """(kind, function) for supported linear estimators, else None."""
    from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge, SGDClassifier

    kind = type(est)
    if kind in (LinearRegression, Ridge, Lasso, ElasticNet):
        coef = np.asarray(est.coef_, dtype=np.float64).reshape(-1)
        intercept = float(np.asarray(est.intercept_, dtype=np.float64).reshape(-1)[0])
        return "predict", lambda x: x @ coef + intercept
    if kind is LogisticRegression or (kind is SGDClassifier and est.loss == "log_loss"):
        coef = np.ascontiguousarray(est.coef_.T, dtype=np.float64)
        intercept = np.asarray(est.intercept_, dtype=np.float64)
        if coef.shape[1] == 1:
            def binary(x):
                p = _expit(x @ coef[:, 0] + intercept[0])
                return np.column_stack([1.0 - p, p])
            return "predict_proba", binary
        if kind is LogisticRegression:
            return "predict_proba", lambda x: _softmax(x @ coef + intercept)

        def ovr(x):  # SGDClassifier's one-vs-rest normalisation
            p = _expit(x @ coef + intercept)
            total = p.sum(axis=1, keepdims=True)
            return np.divide(p, total, out=np.full_like(p, 1.0 / p.shape[1]), where=total != 0)
        return "predict_proba", ovr
    return None


class FastEstimator:
    """Stands in for the estimator of a Model: same outputs, no per-call validation."""

    def __init__(self, method: str, function):
        self.method = method
        setattr(self, method, function)


def compile_model(model):
    """A copy-free fast variant of ``model`` (steps folded into one function), or None if not supported."""
    steps = [_transformer(step) for step in model.steps]
    if any(step is None for step in steps):
        return None
    est = _estimator(model.estimator)
    if est is None:
        return None
    return steps, FastEstimator(*est)
