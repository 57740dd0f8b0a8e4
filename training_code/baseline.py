"""Statistics and schema JSON for a processed dataset (the drift/quality baseline)."""

from __future__ import annotations

import json
import math


def _number(value):
    value = float(value)
    return value if math.isfinite(value) else None


def histogram(values) -> list[dict]:
    """Equal-mass buckets (decile edges) in Model Monitor's KLL bucket shape: the monitor's PSI bins.

    Deciles, not equal widths, so that no bucket of a skewed feature is nearly empty (PSI divides by it);
    repeated edges of a discrete feature collapse into fewer buckets.
    """
    import numpy as np

    edges = np.unique(np.quantile(values, np.linspace(0, 1, 11)))
    if edges.size == 1:
        return [{"lower_bound": _number(edges[0]), "upper_bound": _number(edges[0]), "count": int(values.size)}]
    counts, _ = np.histogram(values, bins=edges)
    return [
        {"lower_bound": _number(low), "upper_bound": _number(high), "count": int(count)}
        for low, high, count in zip(edges[:-1], edges[1:], counts, strict=True)
    ]


def statistics(frame) -> dict:
    import numpy as np
    import pandas as pd

    features = []
    for index, column in enumerate(frame.columns[1:], start=1):
        series = frame[column]
        values = series.dropna().to_numpy(dtype="float64")
        entry = {"name": str(column), "index": index, "inferred_type": "Fractional", "count": int(series.size),
                 "missing": int(series.isna().sum())}
        if values.size:
            q = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95])
            entry.update(mean=_number(values.mean()), std=_number(values.std()), min=_number(values.min()),
                         max=_number(values.max()), p5=_number(q[0]), p25=_number(q[1]), p50=_number(q[2]),
                         p75=_number(q[3]), p95=_number(q[4]), histogram=histogram(values))
            if np.all(values == np.round(values)):
                entry["inferred_type"] = "Integral"
        features.append(entry)
    label = frame.iloc[:, 0]
    label_stats = {"name": str(frame.columns[0]), "count": int(label.size), "missing": int(label.isna().sum())}
    if pd.api.types.is_numeric_dtype(label) and label.nunique() > 20:
        values = label.dropna().to_numpy(dtype="float64")
        label_stats.update(kind="numeric", mean=_number(values.mean()), std=_number(values.std()),
                           min=_number(values.min()), max=_number(values.max()))
    else:
        counts = label.astype(str).value_counts().sort_index()
        label_stats.update(kind="categorical", distribution={str(k): int(v) for k, v in counts.items()})
    return {"version": 1, "dataset": {"rows": len(frame), "features": len(features)}, "label": label_stats,
            "features": features}


def schema(stats: dict) -> dict:
    return {
        "version": 1,
        "format": "CSV without header, label in the first column",
        "label": {"name": stats["label"]["name"], "kind": stats["label"]["kind"],
                  **({"classes": sorted(stats["label"]["distribution"])}
                     if stats["label"]["kind"] == "categorical" else {})},
        "features": [
            {"name": f["name"], "index": f["index"], "inferred_type": f["inferred_type"],
             "completeness": (f["count"] - f["missing"]) / f["count"] if f["count"] else 0.0,
             "min": f.get("min"), "max": f.get("max")}
            for f in stats["features"]
        ],
    }


def write_baseline(train_frame, args, splits: dict) -> dict:
    stats = statistics(train_frame)
    stats["splits"] = splits
    stats["options"] = {k: (str(v) if hasattr(v, "parts") else v) for k, v in vars(args).items()}
    args.baseline_dir.mkdir(parents=True, exist_ok=True)
    (args.baseline_dir / "statistics.json").write_text(json.dumps(stats, indent=2) + "\n")
    (args.baseline_dir / "schema.json").write_text(json.dumps(schema(stats), indent=2) + "\n")
    return stats
