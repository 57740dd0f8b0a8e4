"""A channel read batch by batch, never whole: what xgboost's external memory and linear-learner's chunks use.

``batches`` streams CSV (``BLOCK_BYTES`` of text at a time, each block parsed by pyarrow) and Parquet (row
groups) in the same conventions as data.py (label first or the Parquet column ``label``; CSV without header, a header
row detected). ``scan`` is one pass that counts the rows, collects the distinct labels and a uniform sample of
rows (for the train:* metrics), in memory bounded by the sample and the batch.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import data
from .errors import UserError

BLOCK_BYTES = 1 << 24  # 16 MiB of CSV text per batch: about 200k rows of 10 numbers
#: distinct label values a scan keeps (800 KB of float64): classification with more is refused as too many classes
DISTINCT_LABELS_KEPT = 100_000


@dataclass
class Batch:
    features: np.ndarray  # float32, what xgboost's hist method bins anyway
    labels: np.ndarray
    path: Path
    first_line: int  # 1-based line (CSV) or row (Parquet) of the batch's first row, for error messages
    parquet: bool


def _text_blocks(path: Path, skip_rows: int) -> Iterator[tuple[bytes, int]]:
    """The file's text in blocks of about BLOCK_BYTES that end at a line's end, each with its first line's
    number. pyarrow's own incremental reader reads ahead without bound (its pool held the whole file before
    the first batch), so the blocks are cut here and each is parsed on its own."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        for _ in range(skip_rows):
            handle.readline()
        line, rest = 1 + skip_rows, b""
        while True:
            chunk = handle.read(BLOCK_BYTES)
            block = rest + chunk
            if len(chunk) < BLOCK_BYTES:  # the end of the file: the last line may lack its newline
                if block.strip():
                    yield block, line
                return
            cut = block.rfind(b"\n") + 1
            if cut == 0:  # one line longer than a block: read on until it ends
                rest = block
                continue
            yield block[:cut], line
            line += block.count(b"\n", 0, cut)
            rest = block[cut:]


def _csv_batches(path: Path) -> Iterator[tuple[pa.RecordBatch, int]]:
    rows = data._first_rows(path)
    if not rows:
        return
    header = data.detect_header(rows, label_first=True)
    columns = len(rows[0])
    generated = [f"c{i}" for i in range(columns)]
    types = {name: pa.float64() for name in generated[1:]}
    convert = pacsv.ConvertOptions(column_types=types, null_values=data._NULLS, strings_can_be_null=True)
    try:
        for block, line in _text_blocks(path, 1 if header else 0):
            read = pacsv.ReadOptions(column_names=generated, block_size=len(block) + 1, use_threads=False)
            table = pacsv.read_csv(pa.BufferReader(block), read_options=read, convert_options=convert)
            for batch in table.to_batches():
                yield batch, line
                line += batch.num_rows
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError) as exc:
        raise UserError(data._locate_csv_error(path, columns, 1 if header else 0, 1)) from exc


def _parquet_batches(path: Path) -> Iterator[tuple[pa.RecordBatch, int]]:
    try:
        handle = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise UserError(f"{path.name}: not a readable Parquet file ({exc})") from exc
    names = handle.schema_arrow.names
    order = ["label"] + [c for c in names if c != "label"] if "label" in names else names
    row = 1
    for batch in handle.iter_batches(columns=order):
        yield batch, row
        row += batch.num_rows


def batches(
    directory: Path, channel: str, content_type: str | None = None, share: tuple[int, int] = (0, 1)
) -> Iterator[Batch]:
    """Every row of the channel's files, a batch at a time; with ``share`` (rank, hosts), only the rows whose
    index in the channel is rank modulo hosts (a FullyReplicated channel split among the hosts)."""
    rank, hosts = share
    seen = 0
    width = None
    for path in data.list_files(directory, channel):
        parquet = data.is_parquet(path, content_type)
        for record, first in _parquet_batches(path) if parquet else _csv_batches(path):
            if record.num_rows == 0:
                continue
            if width is None:
                width = record.num_columns
                if width < 2:
                    raise UserError(
                        f"channel {channel!r} has only {width} column; expected the label followed "
                        "by at least one feature"
                    )
            elif record.num_columns != width:
                raise UserError(
                    f"{path.name} has {record.num_columns} columns but the channel's first file has "
                    f"{width}; all files of channel {channel!r} need the same columns"
                )
            features = np.empty((record.num_rows, width - 1), dtype=np.float32)
            for j, column in enumerate(record.columns[1:]):
                values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
                data._check_column(values, path, first, j + 2, parquet)
                features[:, j] = values
            labels = data._label_array(pa.chunked_array([record.column(0)]), path, first - 1)
            if hosts > 1:
                mine = (np.arange(seen, seen + len(labels)) % hosts) == rank
                features, labels = features[mine], labels[mine]
            seen += record.num_rows
            if len(labels):
                yield Batch(features, labels, path, first, parquet)


@dataclass
class Scan:
    """A streamed channel as train.py sees a Dataset: ``features``/``labels`` are the uniform sample."""

    rows: int
    n_features: int
    distinct_labels: np.ndarray
    features: np.ndarray
    labels: np.ndarray
    files: list[Path]
    source: tuple  # batches()'s arguments, to stream the channel again
    feature_names: list[str] | None = None
    label_name: str | None = None
    #: more distinct labels than DISTINCT_LABELS_KEPT: a continuous target, or too many classes to classify
    more_distinct_labels: bool = False


def scan(
    directory: Path, channel: str, content_type: str | None, sample: int, seed: int, share: tuple[int, int] = (0, 1)
) -> Scan:
    """One pass: row count, distinct labels, and `sample` rows drawn uniformly (the rows with the smallest
    random keys, which is a uniform sample without replacement kept in O(sample) memory)."""
    rng = np.random.default_rng(seed)
    rows, width, distinct, more_distinct = 0, 0, None, False
    keys = np.empty(0)
    kept_x, kept_y = None, None
    files: list[Path] = []
    for batch in batches(directory, channel, content_type, share):
        if not files or files[-1] != batch.path:
            files.append(batch.path)
        rows += len(batch.labels)
        width = batch.features.shape[1]
        distinct, more_distinct = _distinct(distinct, batch.labels, more_distinct)
        batch_keys = rng.random(len(batch.labels))
        if kept_x is None:
            kept_x, kept_y, keys = batch.features[:0], batch.labels[:0], keys
        all_keys = np.concatenate([keys, batch_keys])
        all_x = np.concatenate([kept_x, batch.features])
        all_y = np.concatenate([kept_y, batch.labels])
        if len(all_keys) > sample:
            chosen = np.argpartition(all_keys, sample)[:sample]
            all_keys, all_x, all_y = all_keys[chosen], all_x[chosen], all_y[chosen]
        keys, kept_x, kept_y = all_keys, all_x.copy(), all_y.copy()
    if rows == 0:
        raise UserError(f"channel {channel!r} has no rows: all its file(s) are empty")
    return Scan(
        rows, width, distinct, kept_x.astype(np.float64), kept_y, files, (directory, channel, content_type, share),
        more_distinct_labels=more_distinct,
    )


def _distinct(kept: np.ndarray | None, labels: np.ndarray, more: bool) -> tuple[np.ndarray, bool]:
    """The distinct labels so far, at most DISTINCT_LABELS_KEPT of them, and whether there were more.

    A continuous target has about as many distinct values as rows; beyond the cap only the values the label
    checks look for are added (a NaN, a text value), so a regression channel's scan stays bounded in memory.
    """
    if not more:
        labels = np.unique(labels)
        kept = labels if kept is None else np.union1d(kept, labels)
        if len(kept) <= DISTINCT_LABELS_KEPT:
            return kept, False
        head = kept[:DISTINCT_LABELS_KEPT]
        if kept.dtype != object and np.isnan(kept[-1]):  # NaN sorts last: keep it for the label checks
            head = np.append(head, np.nan)
        return head, True
    if kept.dtype == object:  # a text label is kept already: the label checks refuse it whatever follows
        return kept, True
    if labels.dtype == object:
        return np.concatenate([kept.astype(object), labels[:1]]), True
    if np.isnan(labels).any() and not np.isnan(kept).any():
        return np.append(kept, np.nan), True
    return kept, True


def channel_bytes(directory: Path, channel: str) -> int:
    return sum(path.stat().st_size for path in data.list_files(directory, channel))
