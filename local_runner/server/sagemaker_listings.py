"""SageMaker listings the clients call that the local SageMaker has no operation for yet, answered from its
store (`LocalSageMaker.store`, the records it persists). They belong in the local SageMaker itself; they live
here while that module is being split, and go there with it."""

from __future__ import annotations

from typing import Any

from ..validation import shape_response, validate_request
from .sagemaker_api import Call

_SUMMARY = (
    "HyperParameterTuningJobName",
    "HyperParameterTuningJobArn",
    "HyperParameterTuningJobStatus",
    "CreationTime",
    "HyperParameterTuningEndTime",
    "LastModifiedTime",
    "TrainingJobStatusCounters",
    "ObjectiveStatusCounters",
)


def list_tuning_jobs(store, p: dict[str, Any]) -> dict[str, Any]:
    records = store.values("tuning_jobs")
    if p.get("NameContains"):
        records = [r for r in records if p["NameContains"].lower() in r["HyperParameterTuningJobName"].lower()]
    if p.get("StatusEquals"):
        records = [r for r in records if r["HyperParameterTuningJobStatus"] == p["StatusEquals"]]
    key = {"Name": "HyperParameterTuningJobName", "Status": "HyperParameterTuningJobStatus"}.get(
        p.get("SortBy", "CreationTime"), "CreationTime"
    )
    records = sorted(records, key=lambda r: r[key], reverse=p.get("SortOrder", "Descending") == "Descending")
    summaries = []
    for record in records[: p.get("MaxResults", 100)]:
        config = record.get("HyperParameterTuningJobConfig", {})
        summary = {k: record.get(k) for k in _SUMMARY}
        summary.update(Strategy=config.get("Strategy", "Bayesian"), ResourceLimits=config.get("ResourceLimits"))
        summaries.append(summary)
    return {"HyperParameterTuningJobSummaries": summaries}


LISTINGS = {"ListHyperParameterTuningJobs": list_tuning_jobs}


def with_listings(call: Call, store) -> Call:
    """`call`, with the listings above answered from `store`."""

    def answer(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if service == "sagemaker" and operation in LISTINGS:
            validate_request(service, operation, params)
            return shape_response(service, operation, LISTINGS[operation](store, params))
        return call(service, operation, params)

    return answer
