"""Processing on many instances: a split decided by each row alone, and statistics merged from every shard.

A row's key is a hash of its values (pandas' hash_pandas_object, keyed by the seed; label as text, features as
float64, so the same row hashes alike whichever file or instance it is read on). Its place in the split follows
from the key alone, so N instances give the same train/validation/test rows as one. Statistics are per shard
and mergeable: counts, Chan's (count, mean, M2) moments, min/max, label counts, and a sample of the rows with
the smallest keys (the same rows whatever the sharding), from which the quantiles and medians are taken.
"""

from __future__ import annotations

import math

import numpy as np

#: Rows kept for quantiles and medians: exact up to this many rows, a uniform sample beyond.
SAMPLE_ROWS = 100_000
#: A numeric label with more distinct values than this is summarised as numbers, not as class counts.
LABEL_CLASSES = 20


def row_keys(frame, seed: int) -> np.ndarray:
    import pandas as pd

    canonical = frame.iloc[:, 1:].astype("float64")
    canonical.insert(0, "__label", frame.iloc[:, 0].astype(str))
    key = f"{seed:016d}"[-16:]
    return pd.util.hash_pandas_object(canonical, index=False, hash_key=key).to_numpy(dtype=np.uint64)


def split_of(keys: np.ndarray, validation_fraction: float, test_fraction: float) -> np.ndarray:
    """0 train, 1 validation, 2 test for each key (the key as a uniform number in [0, 1))."""
    u = (keys >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    train_end = 1.0 - validation_fraction - test_fraction
    return np.where(u < train_end, 0, np.where(u < 1.0 - test_fraction, 1, 2))


def partial(frame, keys: np.ndarray) -> dict:
    """This shard's mergeable statistics of `frame` (label first)."""
    values = frame.iloc[:, 1:].to_numpy(dtype="float64")
    present = ~np.isnan(values)
    count = present.sum(axis=0)
    total = np.where(present, values, 0.0).sum(axis=0)
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    m2 = np.where(present, (values - mean) ** 2, 0.0).sum(axis=0)
    low = np.where(count > 0, np.min(np.where(present, values, np.inf), axis=0, initial=np.inf), np.nan)
    high = np.where(count > 0, np.max(np.where(present, values, -np.inf), axis=0, initial=-np.inf), np.nan)
    integral = np.all(~present | (values == np.round(values)), axis=0)
    order = np.argsort(keys, kind="stable")[:SAMPLE_ROWS]
    label = frame.iloc[:, 0]
    numeric = label.dtype.kind in "biuf"
    label_values = label.to_numpy(dtype="float64") if numeric else None
    return {
        "rows": len(frame),
        "count": count,
        "mean": mean,
        "m2": m2,
        "min": low,
        "max": high,
        "integral": integral,
        "sample_keys": keys[order],
        "sample": values[order],
        "label_counts": _label_counts(label, numeric),
        "label_missing": int(label.isna().sum()),
        "label_numeric": numeric,
        "label_moments": _moments(label_values[~np.isnan(label_values)]) if numeric else None,
    }


def _label_counts(label, numeric: bool) -> dict | None:
    """Counts per label value; None for a numeric label with more than LABEL_CLASSES values (kept small)."""
    counts = label.dropna().astype(str).value_counts()
    if numeric and len(counts) > LABEL_CLASSES:
        return None
    return {str(k): int(v) for k, v in counts.items()}


def _moments(values: np.ndarray) -> tuple[int, float, float, float, float]:
    if not len(values):
        return 0, 0.0, 0.0, math.inf, -math.inf
    mean = float(values.mean())
    return len(values), mean, float(((values - mean) ** 2).sum()), float(values.min()), float(values.max())


def _merge_moments(a, b):
    (na, ma, sa, la, ha), (nb, mb, sb, lb, hb) = a, b
    n = na + nb
    if n == 0:
        return a
    delta = mb - ma
    return n, ma + delta * nb / n, sa + sb + delta * delta * na * nb / n, min(la, lb), max(ha, hb)


def merge(parts: list[dict]) -> dict:
    """One set of statistics from every shard's (the same whatever the order or number of shards)."""
    merged = dict(parts[0])
    for part in parts[1:]:
        n = merged["count"] + part["count"]
        delta = part["mean"] - merged["mean"]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(
                n > 0, merged["mean"] + delta * np.divide(part["count"], n, where=n > 0, out=np.zeros_like(delta)), 0.0
            )
            m2 = (
                merged["m2"]
                + part["m2"]
                + np.where(
                    n > 0,
                    delta**2 * np.divide(merged["count"] * part["count"], n, where=n > 0, out=np.zeros_like(delta)),
                    0.0,
                )
            )
        keys = np.concatenate([merged["sample_keys"], part["sample_keys"]])
        sample = np.concatenate([merged["sample"], part["sample"]])
        order = np.argsort(keys, kind="stable")[:SAMPLE_ROWS]
        counts = None
        if merged["label_counts"] is not None and part["label_counts"] is not None:
            counts = dict(merged["label_counts"])
            for label, value in part["label_counts"].items():
                counts[label] = counts.get(label, 0) + value
            if merged["label_numeric"] and part["label_numeric"] and len(counts) > LABEL_CLASSES:
                counts = None
        merged = {
            "rows": merged["rows"] + part["rows"],
            "count": n,
            "mean": mean,
            "m2": m2,
            "min": np.fmin(merged["min"], part["min"]),
            "max": np.fmax(merged["max"], part["max"]),
            "integral": merged["integral"] & part["integral"],
            "sample_keys": keys[order],
            "sample": sample[order],
            "label_counts": counts,
            "label_missing": merged["label_missing"] + part["label_missing"],
            "label_numeric": merged["label_numeric"] and part["label_numeric"],
            "label_moments": _merge_moments(merged["label_moments"], part["label_moments"])
            if merged["label_numeric"] and part["label_numeric"]
            else None,
        }
    return merged


def medians(merged: dict) -> np.ndarray:
    """Each feature's median over the sample (every row up to SAMPLE_ROWS); NaN for an empty column."""
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(merged["sample"], axis=0) if len(merged["sample"]) else merged["mean"] * np.nan


def std(merged: dict) -> np.ndarray:
    return np.sqrt(np.divide(merged["m2"], merged["count"], out=np.zeros_like(merged["m2"]), where=merged["count"] > 0))


def _number(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def statistics(merged: dict, columns: list[str]) -> dict:
    """The baseline's statistics.json shape (baseline.statistics) from merged shard statistics."""
    features = []
    deviation = std(merged)
    for j, name in enumerate(columns[1:]):
        count = int(merged["count"][j])
        entry = {
            "name": str(name),
            "index": j + 1,
            "inferred_type": "Fractional",
            "count": merged["rows"],
            "missing": merged["rows"] - count,
        }
        if count:
            column = merged["sample"][:, j]
            column = column[~np.isnan(column)]
            q = np.quantile(column, [0.05, 0.25, 0.5, 0.75, 0.95])
            entry.update(
                mean=_number(merged["mean"][j]),
                std=_number(deviation[j]),
                min=_number(merged["min"][j]),
                max=_number(merged["max"][j]),
                p5=_number(q[0]),
                p25=_number(q[1]),
                p50=_number(q[2]),
                p75=_number(q[3]),
                p95=_number(q[4]),
            )
            if merged["integral"][j]:
                entry["inferred_type"] = "Integral"
        features.append(entry)
    rows = merged["rows"]
    label = {"name": str(columns[0]), "count": rows, "missing": merged["label_missing"]}
    counts = merged["label_counts"]
    if merged["label_numeric"] and (counts is None or len(counts) > LABEL_CLASSES):
        n, mean, m2, low, high = merged["label_moments"]
        label.update(
            kind="numeric",
            mean=_number(mean),
            std=_number(math.sqrt(m2 / n) if n else 0.0),
            min=_number(low),
            max=_number(high),
        )
    else:
        label.update(kind="categorical", distribution={k: int(counts[k]) for k in sorted(counts)})
    return {"version": 1, "dataset": {"rows": rows, "features": len(features)}, "label": label, "features": features}
