"""A channel read batch by batch: a CSV file is parsed a block at a time, never held whole."""

from __future__ import annotations

import gzip

import numpy as np
import pyarrow as pa
import pytest

from training_code import streaming
from training_code.errors import UserError

BLOCK = 64 * 1024


def _write(path, rows: int, header: bool = False, bad_line: int | None = None) -> np.ndarray:
    values = np.random.default_rng(0).random((rows, 6)).round(6)
    lines = ["label,a,b,c,d,e"] if header else []
    lines += [",".join(f"{v:.6f}" for v in row) for row in values]
    if bad_line is not None:
        lines[bad_line - 1] = lines[bad_line - 1].rsplit(",", 1)[0] + ",oops"
    text = "\n".join(lines) + "\n"
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return values


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(streaming, "BLOCK_BYTES", BLOCK)


@pytest.mark.parametrize("name", ["part.csv", "part.csv.gz"])
def test_a_csv_file_is_parsed_a_block_at_a_time_so_memory_follows_the_block_not_the_file(
    tmp_path, small_blocks, name
):
    channel = tmp_path / "train"
    channel.mkdir()
    values = _write(channel / name, 40_000, header=True)  # about 2.5 MiB of text: 40 blocks
    pool = pa.default_memory_pool()
    before = pool.bytes_allocated()
    batches = streaming.batches(tmp_path, "train")
    first = next(batches)
    held = pool.bytes_allocated() - before
    assert held < 8 * BLOCK, f"the first batch held {held} bytes of Arrow memory: the file was read ahead whole"
    rest = list(batches)
    features = np.concatenate([first.features] + [b.features for b in rest])
    labels = np.concatenate([first.labels] + [b.labels for b in rest])
    assert len(rest) > 10
    np.testing.assert_allclose(features, values[:, 1:].astype(np.float32))
    np.testing.assert_allclose(labels, values[:, 0])
    assert first.first_line == 2  # after the header
    assert [b.first_line for b in rest] == list(np.cumsum([len(first.labels)] + [len(b.labels) for b in rest[:-1]]) + 2)


def test_a_bad_value_in_a_later_block_is_named_by_its_line(tmp_path, small_blocks):
    channel = tmp_path / "train"
    channel.mkdir()
    _write(channel / "part.csv", 20_000, bad_line=15_001)
    with pytest.raises(UserError, match=r"part.csv line 15001, column 6: 'oops' is not a number"):
        list(streaming.batches(tmp_path, "train"))


def test_a_file_without_a_final_newline_keeps_its_last_row(tmp_path, small_blocks):
    channel = tmp_path / "train"
    channel.mkdir()
    (channel / "part.csv").write_text("1,2,3\n0,4,5")
    [batch] = streaming.batches(tmp_path, "train")
    assert batch.labels.tolist() == [1, 0] and batch.features.tolist() == [[2, 3], [4, 5]]


def test_a_regression_channel_keeps_a_bounded_set_of_distinct_labels_however_many_rows_it_has(tmp_path, monkeypatch):
    # every row of a continuous target is a distinct value: keeping them all grew with the rows (and each batch's
    # union re-sorted all of them)
    monkeypatch.setattr(streaming, "DISTINCT_LABELS_KEPT", 500)
    monkeypatch.setattr(streaming, "BLOCK_BYTES", BLOCK)
    _write(tmp_path / "part-0.csv", 20_000)
    scan = streaming.scan(tmp_path, "train", "text/csv", 100, 0)
    assert scan.rows == 20_000
    assert len(scan.distinct_labels) <= 500 and scan.more_distinct_labels


def test_a_nan_label_beyond_the_kept_distinct_labels_still_shows_in_them(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.setattr(streaming, "DISTINCT_LABELS_KEPT", 50)
    labels = np.random.default_rng(1).random(5_000)
    labels[-1] = np.nan  # not a null: a Parquet float column can hold NaN, which regression must refuse
    table = pa.table({"label": labels, "a": np.ones(5_000), "b": np.zeros(5_000)})
    pq.write_table(table, tmp_path / "part-0.parquet", row_group_size=500)
    scan = streaming.scan(tmp_path, "train", "application/x-parquet", 100, 0)
    assert scan.more_distinct_labels and np.isnan(scan.distinct_labels).any()
