"""Data bigger than memory: xgboost from an external-memory iterator; in-memory algorithms refused early."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from conftest import split, write_csv

from training_code import external_memory, model_io, streaming, train
from training_code.paths import training_paths
from training_code.task_metrics import score

HPS = {"algorithm": "xgboost", "objective": "binary:logistic", "num_round": "20", "max_depth": "3"}


def _channel(base, x, y, parquet_part: bool = True) -> None:
    thirds = np.array_split(np.arange(len(y)), 3)
    for index, rows in enumerate(thirds[:2]):
        write_csv(base / "input" / "data" / "train" / f"part-{index}.csv", x[rows], y[rows])
    rows = thirds[2]
    if parquet_part:
        table = pa.table({"label": y[rows], **{f"f{j}": x[rows, j] for j in range(x.shape[1])}})
        pq.write_table(table, base / "input" / "data" / "train" / "part-2.parquet", row_group_size=40)
    else:
        write_csv(base / "input" / "data" / "train" / "part-2.csv", x[rows], y[rows])


def _accuracy(base, x, y) -> float:
    model, _ = model_io.load(base / "model")
    return score(model, x, y, 0)["accuracy"]


def _on(base, instance_type: str) -> None:
    (base / "input" / "config" / "resourceconfig.json").write_text(
        json.dumps({"current_host": "algo-1", "hosts": ["algo-1"], "current_instance_type": instance_type})
    )


def test_xgboost_streams_the_channel_through_the_iterator_and_matches_the_in_memory_model(
    ml_base, tmp_path, monkeypatch, capsys
):
    (train_x, train_y), (test_x, test_y) = split("breast_cancer")
    _channel(ml_base, train_x, train_y)
    config = ml_base / "input" / "config"
    (config / "hyperparameters.json").write_text(json.dumps({**HPS, "external_memory": "true"}))
    monkeypatch.setattr(streaming, "BLOCK_BYTES", 4096)  # many batches from each CSV file
    fed = []
    original = external_memory.ChannelIter.next

    def counting(self, input_data):
        more = original(self, input_data)
        fed.append(more)
        return more

    monkeypatch.setattr(external_memory.ChannelIter, "next", counting)
    assert train.run(training_paths()) == 0
    out = capsys.readouterr().out
    assert "streamed from external memory (426 rows" in out
    assert fed.count(True) > 3, "the matrix was not built batch by batch from the iterator"
    metadata = json.loads((ml_base / "model" / "metadata.json").read_text())
    assert metadata["train_rows"] == len(train_y) and metadata["class_labels"] == [0, 1]
    streamed = _accuracy(ml_base, test_x, test_y)

    memory_base = tmp_path / "memory"
    (memory_base / "input" / "config").mkdir(parents=True)
    _channel(memory_base, train_x, train_y)
    (memory_base / "input" / "config" / "hyperparameters.json").write_text(
        json.dumps({**HPS, "external_memory": "false"})
    )
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(memory_base))
    fed.clear()
    assert train.run(training_paths()) == 0
    assert fed == []
    assert abs(_accuracy(memory_base, test_x, test_y) - streamed) <= 0.03


def test_auto_streams_xgboost_when_the_channel_exceeds_the_in_memory_share(ml_base, monkeypatch, capsys):
    (train_x, train_y), _ = split("breast_cancer")
    _channel(ml_base, train_x, train_y, parquet_part=False)
    (ml_base / "input" / "config" / "hyperparameters.json").write_text(json.dumps(HPS))
    _on(ml_base, "ml.m5.large")
    # 43 KB of 8 GiB: less than the channel's 88 KB of CSV, more than xgboost's 19 KB for its 426 rows
    monkeypatch.setenv("TRAINING_MEMORY_FRACTION", "0.000005")
    assert train.run(training_paths()) == 0
    assert "training from external memory" in capsys.readouterr().out


def test_an_in_memory_algorithm_with_a_channel_beyond_the_instances_memory_share_is_refused_before_reading(
    ml_base, monkeypatch
):
    (train_x, train_y), _ = split("diabetes")
    _channel(ml_base, train_x, train_y, parquet_part=False)
    config = ml_base / "input" / "config"
    (config / "hyperparameters.json").write_text(json.dumps({"algorithm": "ridge"}))
    _on(ml_base, "ml.m5.large")
    monkeypatch.setenv("TRAINING_MEMORY_FRACTION", "0.0000000001")
    read = []
    monkeypatch.setattr("training_code.data.load_channel", lambda *a, **k: read.append(a))
    assert train.run(training_paths()) == 2
    failure = (ml_base / "output" / "failure").read_text()
    assert "'ridge' holds its data in memory" in failure and "8.00 GiB memory (ml.m5.large)" in failure
    assert "ml.m5.large" in failure and "xgboost" in failure and "TRAINING_MEMORY_FRACTION" in failure
    assert read == []


def test_linear_learner_streams_chunks_through_partial_fit_when_the_channel_is_too_large(ml_base, monkeypatch, capsys):
    (train_x, train_y), (test_x, test_y) = split("breast_cancer")
    train_x = train_x.copy()
    train_x[::17, 3] = np.nan  # missing values: the imputer's means come from a pass over the batches
    _channel(ml_base, train_x, train_y, parquet_part=True)
    hps = {"algorithm": "linear-learner", "epochs": "10", "mini_batch_size": "64", "standardize": "true"}
    (ml_base / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hps))
    monkeypatch.setenv("TRAINING_MEMORY_FRACTION", "0.0000000001")
    monkeypatch.setattr(streaming, "BLOCK_BYTES", 4096)
    read = []
    monkeypatch.setattr("training_code.data.load_channel", lambda *a, **k: read.append(a))
    assert train.run(training_paths()) == 0
    assert "streamed from external memory (426 rows" in capsys.readouterr().out
    assert read == []  # the train channel was never loaded whole (and there is no validation channel)
    model, metadata = model_io.load(ml_base / "model")
    assert metadata["accepts_missing"] is True
    assert score(model, test_x, test_y, 0)["accuracy"] >= 0.9


def test_xgboost_out_of_core_is_refused_after_its_scan_when_its_per_row_state_exceeds_the_memory_share(
    ml_base, monkeypatch
):
    # xgboost keeps labels, gradients, predictions and row partitions in memory even out of core; a channel
    # whose rows need more than the share would be killed for memory mid-training
    (train_x, train_y), _ = split("breast_cancer")
    _channel(ml_base, train_x, train_y, parquet_part=False)
    (ml_base / "input" / "config" / "hyperparameters.json").write_text(json.dumps({**HPS, "external_memory": "true"}))
    _on(ml_base, "ml.m5.large")
    monkeypatch.setenv("TRAINING_MEMORY_FRACTION", "0.000001")  # 8.6 KB of 8 GiB; 426 rows need about 19 KB
    built = []
    monkeypatch.setattr(external_memory, "dmatrix", lambda *a, **k: built.append(a))
    assert train.run(training_paths()) == 2
    failure = (ml_base / "output" / "failure").read_text()
    assert "426 rows" in failure and "bytes a row" in failure and "ml.m5.large" in failure
    assert "InstanceCount" in failure and "TRAINING_MEMORY_FRACTION" in failure
    assert "training.memory_fraction" in failure  # where the pipeline's users set it
    assert built == []


def test_multiclass_rows_need_more_of_xgboosts_row_state_than_binary_rows():
    from training_code import memory_plan

    binary = memory_plan.xgboost_row_bytes({"objective": "binary:logistic"}, 2)
    multiclass = memory_plan.xgboost_row_bytes({"objective": "multi:softprob"}, 5)
    assert 0 < binary < multiclass
    assert memory_plan.xgboost_row_bytes({"objective": "reg:squarederror"}, 0) == binary


def test_a_classification_channel_with_more_distinct_labels_than_are_kept_is_refused_as_too_many_classes(
    ml_base, monkeypatch
):
    (train_x, train_y), _ = split("diabetes")  # a continuous target, as classification labels
    _channel(ml_base, train_x, train_y, parquet_part=False)
    (ml_base / "input" / "config" / "hyperparameters.json").write_text(
        json.dumps({**HPS, "objective": "multi:softprob", "external_memory": "true"})
    )
    monkeypatch.setattr(streaming, "DISTINCT_LABELS_KEPT", 50)
    assert train.run(training_paths()) == 2
    failure = (ml_base / "output" / "failure").read_text()
    assert "more than 50 distinct values" in failure and "regression" in failure
