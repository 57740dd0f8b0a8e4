"""``process --split hash``: the split each row's hash decides, on one instance or on many (shard_stats.py).

Every instance processes the rows of its own input shard (``ShardedByS3Key``); imputation values, scaling and
the baseline come from statistics merged over every instance through XGBoost's collective (collective.py,
the same tracker and workers as distributed training), so 2 instances write the same rows, transformed alike,
as 1. Each instance writes ``{split}-{host}.csv`` (``{split}.csv`` on one instance); the first one writes the
baseline.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import shard_stats
from .cluster import Cluster
from .collective import communicator, gather
from .errors import UserError
from .paths import base_dir

SPLITS = ("train", "validation", "test")


def _merged(frame, keys) -> dict:
    return shard_stats.merge(gather(shard_stats.partial(frame, keys)))


def _transform(parts: dict, keys: dict, args) -> dict:
    """Impute and scale with values from the merged train statistics (fitted on the train split only)."""
    if args.impute == "none" and args.scale == "none":
        return parts
    stats = _merged(parts["train"], keys["train"])
    fill = None
    if args.impute == "mean":
        fill = stats["mean"]
    elif args.impute == "median":
        fill = shard_stats.medians(stats)
    if fill is not None:
        fill = np.where(np.isnan(fill), 0.0, fill)  # an all-empty column becomes 0, as SimpleImputer keeps it
    offset, scale = None, None
    if args.scale == "standard":
        # moments after imputation: filled values sit at the fill value (mean: the moments' mean, no spread)
        count, rows = stats["count"], stats["rows"]
        if fill is None:
            offset, spread = stats["mean"], shard_stats.std(stats)
        else:
            missing = rows - count
            # with the mean imputed the mean is unchanged: taking it as is maps every imputed value to exactly 0
            offset = fill if args.impute == "mean" else (stats["mean"] * count + fill * missing) / max(rows, 1)
            m2 = stats["m2"] + count * (stats["mean"] - offset) ** 2 + missing * (fill - offset) ** 2
            spread = np.sqrt(m2 / max(rows, 1))
        scale = np.where(spread > 0, spread, 1.0)
    elif args.scale == "minmax":
        low, high = stats["min"], stats["max"]
        if fill is not None:
            low, high = np.fmin(low, fill), np.fmax(high, fill)
        offset = np.where(np.isnan(low), 0.0, low)
        width = high - low
        scale = np.where((width > 0) & ~np.isnan(width), width, 1.0)
    out = {}
    for name, frame in parts.items():
        frame = frame.copy()
        if len(frame):
            x = frame.iloc[:, 1:].to_numpy(dtype="float64")
            if fill is not None:
                x = np.where(np.isnan(x), fill, x)
            if offset is not None:
                x = (x - offset) / scale
            frame.iloc[:, 1:] = x
        out[name] = frame
    return out


def process(frame, args, cluster: Cluster, write_split) -> dict:
    """Split, transform, write this instance's files and (first instance) the baseline; the split sizes."""
    if args.stratify:
        raise UserError(
            "--split hash decides each row by its hash and cannot stratify; drop --stratify, or use "
            "--split random on one instance"
        )
    keys = shard_stats.row_keys(frame, args.seed)
    if cluster.size > 1 and input_distribution(args.input_dir) != "ShardedByS3Key":
        # every instance has every row: each keeps the rows whose hash is its rank modulo the instances
        mine = keys % np.uint64(cluster.size) == np.uint64(cluster.rank)
        print(
            f"input is FullyReplicated on {cluster.size} instances: {cluster.current_host} processes "
            f"{int(mine.sum())} of its {len(keys)} rows (by row hash)",
            flush=True,
        )
        frame, keys = frame[mine], keys[mine]
    assignment = shard_stats.split_of(keys, args.validation_fraction, args.test_fraction)
    parts = {name: frame[assignment == index] for index, name in enumerate(SPLITS)}
    part_keys = {name: keys[assignment == index] for index, name in enumerate(SPLITS)}
    with communicator(cluster):
        parts = _transform(parts, part_keys, args)
        suffix = "" if cluster.size == 1 else f"-{cluster.current_host}"
        for name, directory in zip(SPLITS, (args.train_dir, args.validation_dir, args.test_dir), strict=True):
            if len(parts[name]):
                write_split(parts[name], directory, f"{name}{suffix}")
        sizes = {name: sum(gather(len(parts[name]))) for name in SPLITS}
        baseline = shard_stats.statistics(_merged(parts["train"], part_keys["train"]), list(frame.columns))
    if cluster.is_first:
        _write_baseline(baseline, args, sizes, cluster)
    return sizes


def input_distribution(input_dir: Path) -> str:
    """S3DataDistributionType of the ProcessingInput mounted at `input_dir`, from the job's request that
    SageMaker writes to /opt/ml/config/processingjobconfig.json (FullyReplicated, its default, without one)."""
    path = base_dir() / "config" / "processingjobconfig.json"
    if not path.is_file():
        return "FullyReplicated"
    try:
        request = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise UserError(f"{path} is not valid JSON") from None
    for item in request.get("ProcessingInputs") or []:
        source = item.get("S3Input") or {}
        local = str(source.get("LocalPath", ""))
        if local.startswith("/opt/ml/") and (base_dir() / local[len("/opt/ml/") :]) == input_dir:
            return source.get("S3DataDistributionType", "FullyReplicated")
    return "FullyReplicated"


def _write_baseline(stats: dict, args, sizes: dict, cluster: Cluster) -> None:
    from .baseline import schema

    stats["splits"] = sizes
    stats["instances"] = cluster.size
    stats["options"] = {k: (str(v) if hasattr(v, "parts") else v) for k, v in vars(args).items()}
    args.baseline_dir.mkdir(parents=True, exist_ok=True)
    (args.baseline_dir / "statistics.json").write_text(json.dumps(stats, indent=2) + "\n")
    (args.baseline_dir / "schema.json").write_text(json.dumps(schema(stats), indent=2) + "\n")
