"""Channel data: Parquet and CSV, several files per channel, content types, memory near the data size."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, split, write_csv

from training_code import train
from training_code.data import load_channel
from training_code.errors import UserError


def test_parquet_channel_in_several_files_with_csv_validation(ml_base):
    (train_x, train_y), (val_x, val_y) = split("wine")
    channel = ml_base / "input" / "data" / "train"
    channel.mkdir(parents=True)
    frame = pd.DataFrame(train_x, columns=[f"x{i}" for i in range(train_x.shape[1])])
    frame["label"] = train_y.astype(int)  # a 'label' column anywhere is the label
    for i, start in enumerate(range(0, len(frame), 50)):
        frame.iloc[start:start + 50].to_parquet(channel / f"part-{i}.parquet")
    write_csv(ml_base / "input" / "data" / "validation" / "v1.csv", val_x[:20], val_y[:20])
    write_csv(ml_base / "input" / "data" / "validation" / "nested" / "v2.csv", val_x[20:], val_y[20:])
    (ml_base / "input" / "config" / "hyperparameters.json").write_text('{"algorithm": "random-forest"}')
    (ml_base / "input" / "config" / "inputdataconfig.json").write_text(json.dumps(
        {"train": {"ContentType": "application/x-parquet"}, "validation": {"ContentType": "text/csv"}}))
    assert train.run() == 0
    metadata = json.loads((ml_base / "model" / "metadata.json").read_text())
    assert metadata["train_rows"] == len(train_y) and metadata["validation_rows"] == len(val_y)
    assert metadata["feature_names"] == [f"x{i}" for i in range(train_x.shape[1])]
    assert metadata["metrics"]["validation:accuracy"] > 0.85


def test_parquet_text_feature_is_refused(tmp_path):
    pd.DataFrame({"label": [1, 0], "a": ["x", "y"]}).to_parquet(tmp_path / "d.parquet")
    with pytest.raises(UserError, match=r"d.parquet column 2 \('a'\) has type (large_)?string, expected numbers"):
        load_channel(tmp_path, "train")


def test_files_with_different_widths_are_refused(tmp_path):
    (tmp_path / "a.csv").write_text("1,2,3\n")
    (tmp_path / "b.csv").write_text("1,2\n")
    with pytest.raises(UserError, match=r"b\.csv has 2 columns but a\.csv has 3"):
        load_channel(tmp_path, "train")


def test_empty_label_is_refused(tmp_path):
    (tmp_path / "a.csv").write_text("1,2,3\n,4,5\n")
    with pytest.raises(UserError, match=r"a.csv row 2: the label \(column 1\) is empty"):
        load_channel(tmp_path, "train")


@pytest.mark.slow
def test_memory_stays_near_the_data_size(tmp_path):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rows, cols = 400_000, 20
    data = np.random.default_rng(0).random((rows, cols + 1))
    table = pa.table({f"c{i}": data[:, i] for i in range(cols + 1)})
    for i in range(2):
        pacsv.write_csv(table.slice(i * rows // 2, rows // 2), tmp_path / f"part{i}.csv",
                        pacsv.WriteOptions(include_header=False))
    del data, table
    feature_bytes = rows * cols * 8  # 64 MB of float64 features
    code = f"""
import resource, sys
from pathlib import Path
from training_code.data import load_channel
import numpy, pyarrow.csv
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
ds = load_channel(Path({str(tmp_path)!r}), "train")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
assert ds.features.shape == ({rows}, {cols}), ds.features.shape
print(peak - before)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    growth = int(out.stdout.strip())
    # the result itself (features + labels) plus one file's Arrow columns at a time: well under 3x
    assert growth < 2.6 * feature_bytes, f"peak grew by {growth / 1e6:.0f} MB for {feature_bytes / 1e6:.0f} MB of data"
