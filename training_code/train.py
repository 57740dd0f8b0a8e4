"""``train``: read the job's configuration and channels, fit, log metrics, write the model (or a failure)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from . import cluster as cluster_config
from . import hyperparameters as hyperparameter_parsing
from .catalog import objective_metric
from .checkpoint import StopFlag
from .errors import Interrupted, UserError, write_failure
from .metrics import format_metric_line
from .paths import TrainingPaths, json_object, num_cpus, training_paths

log = logging.getLogger("training_code.train")
TRAIN_METRIC_SAMPLE = 20000


def read_hyperparameters(paths: TrainingPaths) -> dict:
    if paths.hyperparameters_file.is_file():
        source = str(paths.hyperparameters_file)
        raw = paths.hyperparameters_file.read_text(encoding="utf-8")
    else:
        source, raw = "SM_HPS", os.environ.get("SM_HPS") or "{}"
    return json_object(raw, source, 'a JSON object of names to string values, such as {"algorithm": "ridge"}')


def _content_type(config: dict, channel: str) -> str | None:
    return (config.get(channel) or {}).get("ContentType")


def _load_data(paths: TrainingPaths, cluster: cluster_config.Cluster, stream: bool = False, seed: int = 0):
    """(train, validation): train in memory (data.Dataset) or, streamed, scanned once (streaming.Scan);
    validation, when there is one, in memory."""
    from .data import load_channel

    config = paths.input_data_config()
    distribution = (config.get("train") or {}).get("S3DistributionType", "FullyReplicated")
    if stream:
        from . import streaming

        # a FullyReplicated channel on N hosts: each host its every N-th row (see _host_share)
        share = (0, 1) if distribution == "ShardedByS3Key" else (cluster.rank, cluster.size)
        train = streaming.scan(paths.channel_dir("train"), "train", _content_type(config, "train"),
                               TRAIN_METRIC_SAMPLE, seed, share)
    else:
        train = load_channel(paths.channel_dir("train"), "train", _content_type(config, "train"))
        train = _host_share(train, config, cluster)
    validation = None
    vdir = paths.channel_dir("validation")
    if "validation" in config or (vdir.is_dir() and any(vdir.iterdir())):
        validation = load_channel(vdir, "validation", _content_type(config, "validation"))
        if validation.features.shape[1] != train.features.shape[1]:
            raise UserError(f"channel 'validation' has {validation.features.shape[1]} features but 'train' has "
                            f"{train.features.shape[1]}; both need the label followed by the same features")
    return train, validation


def _host_share(train, config: dict, cluster: cluster_config.Cluster):
    """A FullyReplicated train channel on N hosts: host i keeps every N-th row from row i, so the collective
    sees each row once (as one host would) instead of N times; a ShardedByS3Key channel is already a share."""
    distribution = (config.get("train") or {}).get("S3DistributionType", "FullyReplicated")
    if cluster.size == 1 or distribution == "ShardedByS3Key":
        return train
    rows = slice(cluster.rank, None, cluster.size)
    print(f"train channel is {distribution} on {cluster.size} hosts: host {cluster.current_host} trains on "
          f"every {cluster.size}th row from row {cluster.rank}", flush=True)
    labels = None if train.labels is None else train.labels[rows]
    return type(train)(train.features[rows].copy(), labels, train.files, train.feature_names, train.label_name)


def _epoch_metrics(trainer, train_x, train_y, validation) -> dict:
    from .task_metrics import loss, score

    model = trainer.model()
    values = {}
    train_scores = score(model, train_x, train_y, trainer.seed)
    train_loss = loss(model, train_scores)
    if train_loss is not None and trainer.iterative:
        values["train:loss"] = train_loss
    values.update({f"train:{k}": v for k, v in train_scores.items()})
    if validation is not None:
        scores = score(model, validation.features, validation.labels, trainer.seed)
        values.update({f"validation:{k}": v for k, v in scores.items()})
    return values


def _fit(paths: TrainingPaths, algorithm: str, hp: dict, train, validation, stop: StopFlag, hosts: int = 1,
         cache_dir=None):
    import numpy as np

    from . import checkpoint
    from .algorithms import make_trainer
    from .collective import broadcast

    trainer = make_trainer(algorithm, hp, num_cpus())
    trainer.hosts = hosts
    streamed = cache_dir is not None
    if streamed:
        x, y = trainer.prepare_streamed(train, cache_dir)
        print(f"train: streamed from external memory ({train.rows} rows, read batch by batch)", flush=True)
    else:
        x, y = trainer.prepare(train.features, train.labels)
    sample = slice(None)
    if train.rows > TRAIN_METRIC_SAMPLE and not streamed:  # a streamed channel's features are a sample already
        sample = np.random.default_rng(hp["seed"]).choice(train.rows, TRAIN_METRIC_SAMPLE, replace=False)
    train_x = train.features[sample]
    train_y = None if train.labels is None else train.labels[sample]
    if not trainer.iterative:
        trainer.fit(x, y)
        return trainer, _epoch_metrics(trainer, train_x, train_y, validation)

    fp = checkpoint.fingerprint(algorithm, hp, train.rows, train.features.shape[1])
    rng = np.random.default_rng(hp["seed"])
    # hosts must resume from the same round, and each holds only its share: no checkpoints across hosts
    state, note = (None, f"off on {hosts} hosts") if hosts > 1 else checkpoint.load(paths.checkpoint_dir, fp)
    start = 0
    if state is not None:
        trainer, start = state["trainer"], state["epoch"] + 1
        if streamed:
            trainer.streamed = (train.source, cache_dir)
        rng.bit_generator.state = state["rng"]
    log.info("checkpoints in %s: %s", paths.checkpoint_dir, note)
    print(f"checkpoint: {note}", flush=True)
    objective = objective_metric(algorithm, hp)
    patience = hp.get("early_stopping_rounds", 0)
    best, best_epoch = None, -1
    values = {}
    for epoch in range(start, trainer.epochs):
        trainer.run_epoch(epoch, x, y, rng)
        values = _epoch_metrics(trainer, train_x, train_y, validation)
        print(format_metric_line(values, epoch), flush=True)
        if hosts == 1:
            checkpoint.save(paths.checkpoint_dir, trainer, epoch, rng.bit_generator.state, fp)
        if stop:
            raise Interrupted(f"training interrupted by signal {stop.signal} after epoch {epoch}; checkpoint "
                              f"saved to {paths.checkpoint_dir}, a restarted job resumes from epoch {epoch + 1}")
        if patience and objective in values:
            current = values[objective]
            better = best is None or (current < best if objective.endswith(("rmse", "log_loss", "mae", "msd"))
                                      else current > best)
            if better:
                best, best_epoch = current, epoch
            stop_now = not better and epoch - best_epoch >= patience
            if hosts > 1:  # the first host decides, so every host leaves the collective's loop at the same round
                stop_now = broadcast(stop_now)
            if stop_now:
                print(f"early stopping at epoch {epoch}: {objective} has not improved for {patience} epochs",
                      flush=True)
                break
    return trainer, values


def _train(paths: TrainingPaths, stop: StopFlag) -> dict:
    from .collective import communicator

    algorithm, hp = hyperparameter_parsing.parse(read_hyperparameters(paths))
    cluster = cluster_config.read(paths.config_dir)
    cluster_config.refuse_single_host_only(algorithm, cluster.size)
    print(f"algorithm {algorithm} hyperparameters {json.dumps(hp, sort_keys=True)}", flush=True)
    with communicator(cluster):
        return _train_on(paths, stop, algorithm, hp, cluster)


def _train_on(paths: TrainingPaths, stop: StopFlag, algorithm: str, hp: dict, cluster) -> dict:
    from . import memory_plan, streaming

    stream = memory_plan.streams(algorithm, hp, streaming.channel_bytes(paths.channel_dir("train"), "train"),
                                 cluster.instance_type)
    with tempfile.TemporaryDirectory(prefix="xgboost-pages-") as pages:
        return _train_with(paths, stop, algorithm, hp, cluster, Path(pages) if stream else None)


def _train_with(paths: TrainingPaths, stop: StopFlag, algorithm: str, hp: dict, cluster, cache_dir) -> dict:
    from . import model_io
    from .collective import total

    train, validation = _load_data(paths, cluster, cache_dir is not None, hp["seed"])
    print(f"train: {train.rows} rows x {train.features.shape[1]} features from {len(train.files)} file(s)"
          + (f"; validation: {validation.rows} rows" if validation is not None else "; no validation channel"),
          flush=True)
    if cache_dir is not None:
        from . import memory_plan

        memory_plan.check_streamed_rows(algorithm, hp, train.rows, len(train.distinct_labels), cluster.instance_type)
    started = time.time()
    trainer, values = _fit(paths, algorithm, hp, train, validation, stop, cluster.size, cache_dir)
    print(format_metric_line(values), flush=True)
    model = trainer.model()
    metadata = {
        "algorithm": algorithm,
        "task": trainer.task,
        "hyperparameters": hp,
        "feature_count": trainer.n_features,
        "feature_names": train.feature_names,
        "label_name": train.label_name,
        "class_labels": None if trainer.classes is None else [_plain(c) for c in trainer.classes],
        "accepts_missing": trainer.accepts_missing,
        "objective_metric": objective_metric(algorithm, hp),
        "metrics": values,
        "train_rows": train.rows if cluster.size == 1 else total(train.rows),
        "hosts": cluster.size,
        "validation_rows": None if validation is None else validation.rows,
        "training_seconds": round(time.time() - started, 3),
        "library_versions": model_io.library_versions(),
    }
    if not cluster.is_first:  # every host holds the same model; the first one writes it, as SageMaker's XGBoost
        print(f"host {cluster.current_host}: the model is written by {cluster.hosts[0]}", flush=True)
        return metadata
    model_io.save(paths.model_dir, model, metadata)
    print(f"model written to {paths.model_dir}", flush=True)
    return metadata


def _plain(value):
    item = value.item() if hasattr(value, "item") else value
    if isinstance(item, float) and item.is_integer():
        return int(item)
    return item


def run(paths: TrainingPaths | None = None) -> int:
    """Train; on any error write ``output/failure``, remove any partial model and return non-zero."""
    from . import model_io

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    paths = paths or training_paths()
    # a failure file left by an earlier run in the same tree must not outlive this run's success
    with contextlib.suppress(OSError):
        paths.failure_file.unlink(missing_ok=True)
    previous = signal.getsignal(signal.SIGTERM)
    stop = StopFlag().install()
    try:
        _train(paths, stop)
        return 0
    except BaseException as exc:
        model_io.clear(paths.model_dir)
        reason = write_failure(paths.failure_file, exc)
        print(f"training failed: {reason.splitlines()[0]}", file=sys.stderr, flush=True)
        if isinstance(exc, KeyboardInterrupt):
            raise
        return 143 if isinstance(exc, Interrupted) else (2 if isinstance(exc, UserError) else 1)
    finally:
        signal.signal(signal.SIGTERM, previous)
