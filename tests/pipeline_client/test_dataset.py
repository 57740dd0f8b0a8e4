"""The dataset checks: a usable CSV is described, an unusable one is refused with the line, column and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_client import PipelineError, check_dataset, read_rows


def _csv(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_sample_dataset_is_label_first_and_numeric(dataset: Path) -> None:
    info = check_dataset(dataset)
    assert (info.rows, info.features, info.header) == (569, 30, False)
    assert str(info) == "breast_cancer.csv: 569 rows, label + 30 features"


def test_a_header_line_is_tolerated_and_skipped_when_reading(tmp_path: Path) -> None:
    path = _csv(tmp_path, "label,a,b\n1,0.5,2\n0,,3\n1,1,1\n0,2,2\n")
    assert check_dataset(path).header is True
    rows = read_rows(path, limit=2)
    assert rows.labels == [1, 0]
    assert rows.features == [[0.5, 2.0], [None, 3.0]]  # an empty cell is a missing value


def test_read_rows_returns_the_first_rows_without_the_label(dataset: Path) -> None:
    rows = read_rows(dataset, limit=3)
    first = dataset.read_text().splitlines()[0].split(",")
    assert len(rows.labels) == len(rows.features) == 3
    assert rows.labels[0] == int(first[0])
    assert rows.features[0] == [float(v) for v in first[1:]]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("data.txt", "1,2\n", "not a .csv file; export the dataset as CSV, label in the first column"),
        ("data.csv", "", "no data rows"),
        ("data.csv", "label,a\n", "no data rows"),
        ("data.csv", "1\n0\n", "line 1: one column; need the label and features"),
        ("data.csv", "1,2,3\n0,4\n", "line 2: 2 columns, line 1 has 3; every line needs the same columns"),
        ("data.csv", "1,2\nyes,3\n", "line 2, column 1: the label 'yes' is not a number; the first column must be"),
        ("data.csv", "1,2,red\n", "line 1, column 3: 'red' is not a number; encode every feature as a number"),
    ],
)
def test_an_unusable_csv_is_refused_with_the_fix(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(PipelineError) as raised:
        check_dataset(_csv(tmp_path, text, name))
    assert message in str(raised.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"missing\.csv: no such file; give the path of a CSV"):
        check_dataset(tmp_path / "missing.csv")


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    with pytest.raises(PipelineError, match="not a text file"):
        check_dataset(path)


def test_a_training_dataset_needs_rows_for_every_split_a_scoring_one_does_not(tmp_path: Path) -> None:
    path = _csv(tmp_path, "1,0.5,2\n0,1,3\n")
    with pytest.raises(PipelineError, match=r"2 data rows; the processing job splits .* needs at least 4 rows"):
        check_dataset(path)
    assert check_dataset(path, training=False).rows == 2
