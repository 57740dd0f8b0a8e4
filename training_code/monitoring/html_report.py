"""drift_report.html: per drifted feature, the baseline's bucket shares against the live ones, and the PSI.

One self-contained file (PNG charts inlined as data URIs) beside constraint_violations.json, so a person opens
it straight from S3 or the local runner's directory.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from .drift import DriftResult, FeatureDrift


def _chart(d: FeatureDrift) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 3), dpi=90)
    x = np.arange(len(d.baseline_shares))
    total = max(sum(d.live_counts), 1)
    ax.bar(x - 0.2, d.baseline_shares, width=0.4, label="baseline")
    ax.bar(x + 0.2, [c / total for c in d.live_counts], width=0.4, label="live")
    ax.set_xticks(x, [f"{e:.3g}" for e in d.edges[:-1]], rotation=45, fontsize=7)
    ax.set_xlabel("bucket lower bound (outer buckets open-ended)")
    ax.set_ylabel("share of rows")
    ax.set_title(f"{d.name}: PSI {d.distance:.4f}" if d.distance is not None else d.name)
    ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def write(path: Path, result: DriftResult, violations: list[dict], title: str) -> Path:
    flagged = {v.get("feature_name") for v in violations}
    rows = (
        "".join(
            f"<tr><td>{html.escape(v.get('feature_name') or v.get('metric_name', ''))}</td>"
            f"<td>{html.escape(v['constraint_check_type'])}</td><td>{html.escape(v['description'])}</td></tr>"
            for v in violations
        )
        or "<tr><td colspan=3>no violations</td></tr>"
    )
    charts = "".join(
        f'<h3>{html.escape(d.name)}</h3><img alt="{html.escape(d.name)}" src="data:image/png;base64,{_chart(d)}">'
        for d in result.features
        if d.name in flagged and d.baseline_shares and d.live_counts
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{result.rows} captured rows compared with the baseline"
        f"{'' if result.judged else ' (too few rows to judge distributions, missing rates and ranges)'}.</p>"
        f"<table border=1 cellpadding=4><tr><th>feature</th><th>check</th><th>finding</th></tr>{rows}</table>"
        f"{charts}</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
