"""``monitor``: captured endpoint traffic against the serving model's baseline (a processing job).

Writes statistics.json, constraint_violations.json (Model Monitor's shapes) and drift_report.html to the
output directory and prints CloudWatch metrics as embedded metric format lines. See docs/monitoring.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .cli_common import run_job
from .errors import UserError
from .paths import processing_dir


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1, got {text}")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training_code monitor",
        description="Drift and model quality of captured traffic against a baseline.",
    )
    parser.add_argument("--capture-dir", type=Path, default=processing_dir("capture"))
    parser.add_argument(
        "--baseline-dir",
        type=Path,
        default=processing_dir("baseline"),
        help="holds the statistics.json that process wrote for the serving model",
    )
    parser.add_argument(
        "--evaluation-dir",
        type=Path,
        default=processing_dir("evaluation"),
        help="holds the serving model's evaluation.json (model quality)",
    )
    parser.add_argument("--ground-truth-dir", type=Path, default=processing_dir("ground_truth"))
    parser.add_argument("--output-dir", type=Path, default=processing_dir("monitoring"))
    parser.add_argument("--max-distance", type=float, default=0.2, help="population stability index per feature")
    parser.add_argument("--max-missing-rate", type=_rate, default=0.05, help="increase over the baseline's rate")
    parser.add_argument("--max-type-rate", type=_rate, default=0.01)
    parser.add_argument("--max-out-of-range-rate", type=_rate, default=0.05)
    parser.add_argument("--min-rows", type=int, default=100)
    parser.add_argument(
        "--quality-tolerance", type=float, default=0.05, help="how much worse than at evaluation the live metric may be"
    )
    parser.add_argument("--metrics-namespace", default="SageMakerPipeline/Monitoring")
    parser.add_argument("--endpoint-name", default="endpoint")
    args = parser.parse_args(argv)
    if args.max_distance <= 0 or args.min_rows < 1 or args.quality_tolerance < 0:
        raise UserError("--max-distance must be > 0, --min-rows >= 1 and --quality-tolerance >= 0")
    return args


def _json_file(path: Path, what: str, fix: str) -> dict:
    if not path.is_file():
        raise UserError(f"no {what} at {path}; {fix}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UserError(f"{path} is not valid JSON ({exc}); {fix}") from None
    if not isinstance(doc, dict):
        raise UserError(f"{path} must hold a JSON object; {fix}")
    return doc


def monitor(args: argparse.Namespace) -> dict:
    from .monitoring import html_report, metrics, quality, reports
    from .monitoring.capture import read_capture
    from .monitoring.drift import Thresholds, compare

    baseline = _json_file(
        args.baseline_dir / "statistics.json",
        "baseline statistics",
        "pass the baseline/ output of the serving model's processing job",
    )
    capture = read_capture(args.capture_dir)
    limits = Thresholds(
        distance=args.max_distance,
        missing_rate=args.max_missing_rate,
        type_rate=args.max_type_rate,
        out_of_range_rate=args.max_out_of_range_rate,
        min_rows=args.min_rows,
    )
    result = compare(baseline, capture, limits)
    live_quality = None
    evaluation_file = args.evaluation_dir / "evaluation.json"
    labels = quality.read_ground_truth(args.ground_truth_dir)
    if labels and evaluation_file.is_file():
        evaluation = _json_file(evaluation_file, "evaluation report", "pass the serving model's evaluation/ output")
        live_quality = quality.measure(capture, labels, evaluation, args.quality_tolerance, args.min_rows)
    violations = reports.constraint_violations(result, live_quality)
    out = args.output_dir
    reports.write_json(out / "statistics.json", reports.statistics(result, live_quality))
    reports.write_json(out / "constraint_violations.json", violations)
    report = html_report.write(
        out / "drift_report.html", result, violations["violations"], f"Drift of {args.endpoint_name}"
    )
    lines = metrics.emf_lines(
        args.metrics_namespace, args.endpoint_name, result, live_quality, len(violations["violations"])
    )
    (out / "cloudwatch_metrics.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    for line in lines:
        print(line, flush=True)
    return {
        "files": capture.files,
        "requests": capture.requests,
        "rows": result.rows,
        "judged": result.judged,
        "violations": len(violations["violations"]),
        "features": sorted({v["feature_name"] for v in violations["violations"] if "feature_name" in v}),
        "quality": None if live_quality is None else {"metric": live_quality.metric, "value": live_quality.value},
        "report": str(report),
    }


def main(argv: list[str]) -> int:
    def body():
        print(json.dumps(monitor(parse_args(argv))), flush=True)

    return run_job("monitor", body)
