"""``process``: raw CSV/Parquet -> train/validation/test CSV (no header, label first) + a statistics baseline."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from .cli_common import run_job
from .errors import UserError
from .paths import processing_dir

log = logging.getLogger("training_code.process")
MAX_CLASSES_FOR_STRATIFY = 50


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training_code process",
                                     description="Split, impute and scale raw data; write a baseline.")
    parser.add_argument("--input-dir", type=Path, default=processing_dir("input"))
    parser.add_argument("--train-dir", type=Path, default=processing_dir("train"))
    parser.add_argument("--validation-dir", type=Path, default=processing_dir("validation"))
    parser.add_argument("--test-dir", type=Path, default=processing_dir("test"))
    parser.add_argument("--baseline-dir", type=Path, default=processing_dir("baseline"))
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--impute", choices=["none", "mean", "median"], default="none")
    parser.add_argument("--scale", choices=["none", "standard", "minmax"], default="none",
                        help="scale features in the output files (training scales inside the model anyway)")
    parser.add_argument("--stratify", action=argparse.BooleanOptionalAction, default=None,
                        help="stratify the split by label (default: when the label looks categorical)")
    parser.add_argument("--label-column", default=None,
                        help="label column name (header) or 1-based index; default: the first column")
    parser.add_argument("--split", choices=["auto", "random", "hash"], default="auto",
                        help="random: scikit-learn's (stratified) split; hash: each row by its hash, the same on any "
                             "number of instances; auto: hash on more than one instance, else random")
    args = parser.parse_args(argv)
    for name in ("validation_fraction", "test_fraction"):
        value = getattr(args, name)
        if not 0 <= value < 1:
            raise UserError(f"--{name.replace('_', '-')} must be >= 0 and < 1, got {value}")
    if args.validation_fraction + args.test_fraction >= 1:
        raise UserError(f"--validation-fraction + --test-fraction must be < 1, got "
                        f"{args.validation_fraction + args.test_fraction:g}; leave rows for training")
    return args


def _read_one(path: Path, label_column: str | None):
    from . import data

    if data.is_parquet(path):
        table, names = data.read_parquet(path, numeric_from=0 if label_column else 1)
        return table.to_pandas(), names
    if label_column is None:
        table, names = data.read_csv(path, numeric_from=1)
    else:
        rows = data._first_rows(path)
        header = data.detect_header(rows, label_first=False) or not label_column.isdigit()
        table, names = data.read_csv(path, header=header, numeric_from=len(rows[0]) if rows else 0)
    frame = table.to_pandas()
    frame.columns = names if names else [f"c{i}" for i in range(table.num_columns)]
    return frame, names


def load_raw(input_dir: Path, label_column: str | None):
    """All raw files as one DataFrame with the label first."""
    import pandas as pd

    from . import data

    frames = []
    for path in data.list_files(input_dir, "input"):
        frame, names = _read_one(path, label_column)
        if names is None:
            frame.columns = ["label"] + [f"feature_{i}" for i in range(1, frame.shape[1])]
        if frames and list(frame.columns) != list(frames[0].columns):
            raise UserError(f"{path.name} has columns {list(frame.columns)[:5]}... unlike the first file "
                            f"{list(frames[0].columns)[:5]}...; all input files need the same columns")
        frames.append(frame)
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if label_column is not None:
        columns = list(frame.columns)
        if label_column in columns:
            label = label_column
        elif label_column.isdigit() and 1 <= int(label_column) <= len(columns):
            label = columns[int(label_column) - 1]
        else:
            raise UserError(f"--label-column {label_column!r} not found; columns are {columns[:20]}")
        frame = frame[[label] + [c for c in columns if c != label]]
        for column in frame.columns[1:]:
            if not pd.api.types.is_numeric_dtype(frame[column]):
                sample = frame[column].dropna().astype(str).head(1).tolist()
                raise UserError(f"column {column!r} is not numeric (e.g. {sample}); encode it as numbers "
                                "before training")
    return frame


def _stratify_labels(labels, requested: bool | None, seed_note: str):
    import numpy as np

    values, counts = np.unique(labels.astype(str), return_counts=True)
    categorical = labels.dtype == object or len(values) <= min(MAX_CLASSES_FOR_STRATIFY, max(2, len(labels) // 10))
    if requested is False or (requested is None and not categorical):
        return None
    if counts.min() < 3:
        if requested:
            raise UserError(f"cannot stratify: class {values[counts.argmin()]!r} has only {counts.min()} row(s); "
                            "use --no-stratify or add data")
        log.warning("not stratifying (%s): a class has fewer than 3 rows", seed_note)
        return None
    return labels.astype(str)


def split(frame, args):
    from sklearn.model_selection import train_test_split

    labels = frame.iloc[:, 0].to_numpy()
    holdout = args.validation_fraction + args.test_fraction
    parts = {"train": frame, "validation": frame.iloc[:0], "test": frame.iloc[:0]}
    if holdout == 0:
        return parts
    strat = _stratify_labels(labels, args.stratify, "holdout")
    try:
        train, rest = train_test_split(frame, test_size=holdout, random_state=args.seed, stratify=strat)
        parts["train"] = train
        if args.test_fraction == 0:
            parts["validation"] = rest
        elif args.validation_fraction == 0:
            parts["test"] = rest
        else:
            rest_strat = None if strat is None else rest.iloc[:, 0].to_numpy().astype(str)
            validation, test = train_test_split(rest, test_size=args.test_fraction / holdout,
                                                random_state=args.seed, stratify=rest_strat)
            parts["validation"], parts["test"] = validation, test
    except ValueError as exc:
        raise UserError(f"cannot split {len(frame)} rows with --validation-fraction {args.validation_fraction} "
                        f"and --test-fraction {args.test_fraction}: {exc}") from None
    return parts


def transform(parts: dict, args) -> dict:
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    steps = []
    if args.impute != "none":
        steps.append(SimpleImputer(strategy=args.impute, keep_empty_features=True))
    if args.scale == "standard":
        steps.append(StandardScaler())
    elif args.scale == "minmax":
        steps.append(MinMaxScaler())
    if not steps:
        return parts
    train_x = parts["train"].iloc[:, 1:].to_numpy(dtype="float64")
    for step in steps:
        train_x = step.fit_transform(train_x)
    out = {}
    for name, frame in parts.items():
        frame = frame.copy()
        if len(frame):
            x = frame.iloc[:, 1:].to_numpy(dtype="float64")
            for step in steps:
                x = step.transform(x)
            frame.iloc[:, 1:] = x
        out[name] = frame
    return out


def write_split(frame, directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.csv"
    frame.to_csv(path, header=False, index=False, float_format="%.10g")
    return path


def main(argv: list[str]) -> int:
    def body():
        from . import cluster as cluster_config
        from .baseline import write_baseline
        from .paths import base_dir

        args = parse_args(argv)
        # a processing job's hosts: /opt/ml/config/resourceconfig.json (training's is under input/config)
        cluster = cluster_config.read(base_dir() / "config")
        method = args.split if args.split != "auto" else ("hash" if cluster.size > 1 else "random")
        if method == "random" and cluster.size > 1:
            raise UserError(f"--split random needs every row on one instance, but the job has {cluster.size} "
                            "(InstanceCount); use --split hash (the default on many instances)")
        frame = load_raw(args.input_dir, args.label_column)
        missing_label = frame.iloc[:, 0].isna()
        if missing_label.all():
            raise UserError("every row has an empty label (first column); the label must come first")
        if missing_label.any():
            log.warning("dropping %d row(s) without a label", int(missing_label.sum()))
            frame = frame[~missing_label]
        if method == "hash":
            from .process_sharded import process

            print(json.dumps(process(frame, args, cluster, write_split)), flush=True)
            return
        parts = transform(split(frame, args), args)
        for name, directory in (("train", args.train_dir), ("validation", args.validation_dir),
                                ("test", args.test_dir)):
            if len(parts[name]):
                write_split(parts[name], directory, name)
        summary = write_baseline(parts["train"], args, {k: len(v) for k, v in parts.items()})
        print(json.dumps(summary["splits"]), flush=True)

    return run_job("process", body)
