"""linear-learner over a streamed channel: preprocessing fitted in passes over the batches, SGD in chunks.

Pass 1 gathers each feature's count and mean (the imputer's values) and the label's mean and spread
(regression's target scaling); pass 2, when `standardize` is set, feeds the imputed batches to
StandardScaler.partial_fit. Each epoch then reads the batches again, shuffles the rows within each batch and
calls partial_fit on `mini_batch_size` rows at a time, so memory follows the batch, not the channel.
"""

from __future__ import annotations

import numpy as np

from . import streaming


def _moments(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    present = ~np.isnan(values)
    count = present.sum(axis=0).astype(np.float64)
    mean = np.divide(np.where(present, values, 0.0).sum(axis=0), count, out=np.zeros(values.shape[1]), where=count > 0)
    m2 = np.where(present, (values - mean) ** 2, 0.0).sum(axis=0)
    return count, mean, m2


def _merge(a, b):
    (na, ma, sa), (nb, mb, sb) = a, b
    n = na + nb
    delta = mb - ma
    share = np.divide(nb, n, out=np.zeros_like(n), where=n > 0)
    cross = np.divide(na * nb, n, out=np.zeros_like(n), where=n > 0)
    return n, ma + delta * share, sa + sb + delta**2 * cross


def fit_preprocessing(trainer, source: tuple) -> None:
    """Set the trainer's steps (imputer, scaler) and target scaling from passes over the batches."""
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    from .catalog import REGRESSION
    from .hyperparameters import flag

    features, target, rows = None, None, 0
    for batch in streaming.batches(*source):
        rows += len(batch.labels)
        part = _moments(batch.features.astype(np.float64))
        features = part if features is None else _merge(features, part)
        if trainer.task == REGRESSION:
            labels = trainer.encode_labels(batch.labels)[:, None]
            part = _moments(labels)
            target = part if target is None else _merge(target, part)
    count, mean, _ = features
    trainer.steps = []
    if (count < rows).any():
        # fitted on the means themselves: the imputer's statistics_ are the channel's means
        trainer.steps.append(SimpleImputer(strategy="mean", keep_empty_features=True).fit(mean[None, :]))
    trainer.accepts_missing = bool((count < rows).any())
    if flag(trainer.hp.get("standardize", "false")):
        scaler = StandardScaler()
        for batch in streaming.batches(*source):
            scaler.partial_fit(transform(trainer, batch.features))
        trainer.steps.append(scaler)
    trainer.y_mean, trainer.y_scale = 0.0, 1.0
    if target is not None:
        n, y_mean, y_m2 = target
        trainer.y_mean = float(y_mean[0])
        trainer.y_scale = float(np.sqrt(y_m2[0] / n[0])) or 1.0


def transform(trainer, features: np.ndarray) -> np.ndarray:
    x = features.astype(np.float64)
    for step in trainer.steps:
        x = step.transform(x)
    return x


def epoch_batches(trainer, source: tuple):
    """(x, y) per batch, preprocessed and encoded (regression targets scaled), for one epoch."""
    from .catalog import REGRESSION

    for batch in streaming.batches(*source):
        y = trainer.encode_labels(batch.labels)
        if trainer.task == REGRESSION:
            y = (y - trainer.y_mean) / trainer.y_scale
        yield transform(trainer, batch.features), y
