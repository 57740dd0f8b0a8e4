"""``python -m training_code monitor`` against a temporary /opt/ml tree: drift, reports, metrics, failures."""

from __future__ import annotations

import json

import numpy as np
import pytest
from monitoring_traffic import FEATURES, population, record, write_baseline, write_capture

from training_code.monitor import main as monitor_main

ENCODINGS = ("CSV", "JSON", "BASE64")


def _processing(ml_base):
    return ml_base / "processing"


def _run(ml_base, *extra: str) -> tuple[int, dict, dict]:
    code = monitor_main(list(extra))
    out = _processing(ml_base) / "monitoring"
    if code != 0:
        return code, {}, {}
    return (
        code,
        json.loads((out / "statistics.json").read_text()),
        json.loads((out / "constraint_violations.json").read_text()),
    )


def _failure(ml_base) -> str:
    return (ml_base / "output" / "failure").read_text()


def _flagged(violations: dict) -> set[tuple[str, str]]:
    return {(v["feature_name"], v["constraint_check_type"]) for v in violations["violations"]}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_training_distribution_traffic_has_no_violation(ml_base, encoding):
    write_baseline(_processing(ml_base) / "baseline")
    write_capture(_processing(ml_base) / "capture", population(500, seed=1), encoding)
    code, stats, violations = _run(ml_base)
    assert code == 0
    assert violations == {"violations": []}
    assert stats["dataset"] == {"item_count": 500}
    assert [f["name"] for f in stats["features"]] == list(FEATURES)
    age = stats["features"][0]
    assert age["inferred_type"] == "Integral"
    assert age["numerical_statistics"]["common"] == {"num_present": 500, "num_missing": 0}
    assert sum(b["count"] for b in age["numerical_statistics"]["distribution"]["kll"]["buckets"]) == 500
    assert all(f["drift"]["population_stability_index"] < 0.2 for f in stats["features"])


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_shifted_traffic_flags_exactly_the_shifted_features(ml_base, encoding):
    write_baseline(_processing(ml_base) / "baseline")
    live = population(500, seed=2)
    live["income"] *= 2.5  # a distribution shift
    live.loc[live.index[:150], "score"] = np.nan  # 30% missing
    write_capture(_processing(ml_base) / "capture", live, encoding)
    code, _, violations = _run(ml_base)
    assert code == 0
    assert _flagged(violations) == {
        ("income", "baseline_drift_check"),
        ("income", "range_check"),
        ("score", "completeness_check"),
    }
    report = (_processing(ml_base) / "monitoring" / "drift_report.html").read_text()
    assert "income" in report and "data:image/png;base64," in report and "population stability index" in report


def test_baseline_without_histogram_uses_its_quantiles(ml_base):
    stats = write_baseline(_processing(ml_base) / "baseline")
    for feature in stats["features"]:
        del feature["histogram"]
    (_processing(ml_base) / "baseline" / "statistics.json").write_text(json.dumps(stats))
    live = population(500, seed=3)
    live["ratio"] = live["ratio"] * 0.3  # squeezed into the lower third
    write_capture(_processing(ml_base) / "capture", live, "CSV")
    code, _, violations = _run(ml_base)
    assert code == 0
    assert _flagged(violations) == {("ratio", "baseline_drift_check")}


def test_type_and_column_violations(ml_base):
    write_baseline(_processing(ml_base) / "baseline")
    live = population(200, seed=4)
    rows = live[list(FEATURES)].values.tolist()
    for row in rows[:20]:
        row[0] = row[0] + 0.5  # an Integral feature gets fractions
        row[3] = "n/a"  # text in a number column
    lines = [record([row], "CSV") for row in rows]
    lines.append(record([[30.0, 20000.0, 0.1]], "CSV"))  # a column short
    lines.append(record([[30.0, 20000.0, 0.1, 0.5, 9.0]], "JSON"))  # a column too many
    path = _processing(ml_base) / "capture" / "mixed.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    code, stats, violations = _run(ml_base)
    assert code == 0
    assert _flagged(violations) == {
        ("age", "data_type_check"),
        ("ratio", "data_type_check"),  # text cells are a type violation, not missing values
        ("ratio", "missing_column_check"),
        ("column_5", "extra_column_check"),
    }
    assert stats["dataset"]["item_count"] == 200


def test_too_few_rows_are_reported_not_judged(ml_base):
    write_baseline(_processing(ml_base) / "baseline")
    live = population(20, seed=5)
    live["income"] *= 10
    write_capture(_processing(ml_base) / "capture", live, "CSV")
    code, _, violations = _run(ml_base, "--min-rows", "100")
    assert code == 0 and violations == {"violations": []}
    assert "too few rows" in (_processing(ml_base) / "monitoring" / "drift_report.html").read_text()


def test_thresholds_come_from_the_arguments(ml_base):
    write_baseline(_processing(ml_base) / "baseline")
    live = population(500, seed=6)
    live["score"] += 0.4
    write_capture(_processing(ml_base) / "capture", live, "CSV")
    _, stats, lenient = _run(ml_base, "--max-distance", "5")
    psi = next(f for f in stats["features"] if f["name"] == "score")["drift"]["population_stability_index"]
    _, _, strict = _run(ml_base, "--max-distance", str(psi / 2))
    assert lenient == {"violations": []}
    assert ("score", "baseline_drift_check") in _flagged(strict)


def test_no_captured_data_writes_an_empty_result(ml_base):
    write_baseline(_processing(ml_base) / "baseline")
    code, stats, violations = _run(ml_base)
    assert code == 0 and violations == {"violations": []} and stats["dataset"] == {"item_count": 0}


def test_metrics_are_embedded_metric_format_lines(ml_base, capsys):
    write_baseline(_processing(ml_base) / "baseline")
    live = population(300, seed=7)
    live["income"] *= 3
    write_capture(_processing(ml_base) / "capture", live, "CSV")
    code, _, violations = _run(ml_base, "--endpoint-name", "my-endpoint", "--metrics-namespace", "Team/Drift")
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    total = lines[0]
    assert total["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Team/Drift"
    assert total["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Endpoint"]]
    assert total["Endpoint"] == "my-endpoint" and total["ViolationCount"] == len(violations["violations"]) > 0
    per_feature = {line["Feature"]: line for line in lines[1:]}
    assert set(per_feature) == set(FEATURES)
    assert per_feature["income"]["FeatureDrift"] > 0.2 > per_feature["age"]["FeatureDrift"]
    assert {m["Name"] for m in per_feature["income"]["_aws"]["CloudWatchMetrics"][0]["Metrics"]} == {
        "FeatureDrift",
        "MissingRate",
        "OutOfRangeRate",
    }
    written = (_processing(ml_base) / "monitoring" / "cloudwatch_metrics.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in written] == lines


def _labelled_traffic(ml_base, wrong_share: float) -> None:
    write_baseline(_processing(ml_base) / "baseline")
    live = population(200, seed=8)
    rows = live[list(FEATURES)].values.tolist()
    truth = live["label"].tolist()
    lines, labels = [], []
    for i, (row, label) in enumerate(zip(rows, truth, strict=True)):
        predicted = 1 - label if i < wrong_share * len(rows) else label
        lines.append(record([row], "CSV", predictions=[predicted], inference_id=f"req-{i}"))
        labels.append(
            json.dumps(
                {
                    "groundTruthData": {"data": str(label), "encoding": "CSV"},
                    "eventMetadata": {"eventId": f"req-{i}"},
                    "eventVersion": "0",
                }
            )
        )
    capture = _processing(ml_base) / "capture" / "c.jsonl"
    capture.parent.mkdir(parents=True)
    capture.write_text("\n".join(lines) + "\n")
    truth_file = _processing(ml_base) / "ground_truth" / "2026" / "12" / "01" / "10" / "labels.jsonl"
    truth_file.parent.mkdir(parents=True)
    truth_file.write_text("\n".join(labels) + "\n")
    evaluation = {
        "task": "binary_classification",
        "metrics": {"accuracy": 0.95, "f1": 0.94},
        "objective": {"name": "accuracy", "value": 0.95, "goal": "Maximize"},
        "class_labels": [0, 1],
    }
    (_processing(ml_base) / "evaluation").mkdir()
    (_processing(ml_base) / "evaluation" / "evaluation.json").write_text(json.dumps(evaluation))


def test_model_quality_drop_against_the_evaluation_is_a_violation(ml_base):
    _labelled_traffic(ml_base, wrong_share=0.3)
    code, stats, violations = _run(ml_base)
    assert code == 0
    assert stats["model_quality"] == {"metric": "accuracy", "value": pytest.approx(0.7), "baseline": 0.95, "rows": 200}
    assert [v for v in violations["violations"] if "metric_name" in v] == [
        {
            "metric_name": "accuracy",
            "constraint_check_type": "LessThanThreshold",
            "description": "accuracy 0.7000 on 200 labelled predictions against 0.9500 at evaluation: worse by "
            "0.2500, more than 0.05",
        }
    ]


def test_model_quality_as_good_as_the_evaluation_is_no_violation(ml_base):
    _labelled_traffic(ml_base, wrong_share=0.02)
    code, stats, violations = _run(ml_base)
    assert code == 0 and stats["model_quality"]["value"] == pytest.approx(0.98)
    assert violations == {"violations": []}


MALFORMED = {
    "not JSON": ("{captureData: oops", "not valid JSON"),
    "no input": (
        json.dumps({"captureData": {"endpointOutput": {}}, "eventVersion": "0"}),
        "no captureData.endpointInput",
    ),
    "bad base64": (
        json.dumps(
            {
                "captureData": {
                    "endpointInput": {
                        "observedContentType": "text/csv",
                        "mode": "INPUT",
                        "data": "***",
                        "encoding": "BASE64",
                    }
                }
            }
        ),
        "BASE64 data is not base64-encoded",
    ),
    "unknown encoding": (
        json.dumps(
            {
                "captureData": {
                    "endpointInput": {
                        "observedContentType": "text/csv",
                        "mode": "INPUT",
                        "data": "1,2,3,4",
                        "encoding": "GZIP",
                    }
                }
            }
        ),
        "encoding 'GZIP' is not one of CSV, JSON, BASE64",
    ),
    "unmonitorable type": (
        json.dumps(
            {
                "captureData": {
                    "endpointInput": {
                        "observedContentType": "application/x-npy",
                        "mode": "INPUT",
                        "data": "AAAA",
                        "encoding": "BASE64",
                    }
                }
            }
        ),
        "request content type 'application/x-npy' cannot be monitored",
    ),
    "bad JSON body": (
        json.dumps(
            {
                "captureData": {
                    "endpointInput": {
                        "observedContentType": "application/json",
                        "mode": "INPUT",
                        "data": '{"instances": [',
                        "encoding": "JSON",
                    }
                }
            }
        ),
        "the captured JSON request is not valid JSON",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_capture_fails_naming_file_and_line(ml_base, case, capsys):
    line, message = MALFORMED[case]
    write_baseline(_processing(ml_base) / "baseline")
    path = _processing(ml_base) / "capture" / "bad.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(record([[30.0, 1.0, 0.0, 0.5]], "CSV") + "\n" + line + "\n")
    assert monitor_main([]) == 2
    failure = _failure(ml_base)
    assert failure.startswith(f"{path}:2: ") and message in failure
    assert "Traceback" not in failure and "Traceback" not in capsys.readouterr().err


def test_missing_baseline_fails_with_the_fix(ml_base):
    write_capture(_processing(ml_base) / "capture", population(10, seed=9), "CSV")
    assert monitor_main([]) == 2
    assert "no baseline statistics at" in _failure(ml_base) and "baseline/ output" in _failure(ml_base)


def test_bad_threshold_is_a_usage_error(ml_base, capsys):
    with pytest.raises(SystemExit) as exit_info:
        monitor_main(["--max-missing-rate", "1.5"])
    assert exit_info.value.code == 2
    assert "must be a share between 0 and 1" in capsys.readouterr().err
