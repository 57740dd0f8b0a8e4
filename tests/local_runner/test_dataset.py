"""The default dataset (local_runner/dataset.py): scikit-learn's breast-cancer data as SageMaker's CSV."""

from __future__ import annotations

import sklearn.datasets

from local_runner.dataset import default_dataset


def test_the_default_dataset_is_label_first_csv_without_a_header(tmp_path):
    lines = default_dataset(tmp_path / "bc.csv").read_text().splitlines()
    assert len(lines) == 569
    assert all(len(line.split(",")) == 31 and line.split(",")[0] in ("0", "1") for line in lines)


def test_a_dataset_already_written_is_used_as_it_is(tmp_path, monkeypatch):
    # Each `make run` asked scikit-learn for it again: importing scikit-learn is about 2 s of the runner's CPU.
    path = default_dataset(tmp_path / "datasets" / "bc.csv")
    written = path.read_bytes()

    def not_again():
        raise AssertionError("the dataset was built again")

    monkeypatch.setattr(sklearn.datasets, "load_breast_cancer", not_again)
    assert default_dataset(tmp_path / "datasets" / "bc.csv").read_bytes() == written
    assert [p.name for p in path.parent.iterdir()] == ["bc.csv"]  # written whole, then moved into place
