"""The model registry: model package groups and versioned model packages, with their approval status."""

from __future__ import annotations

import time
from typing import Any

from ..validation import ServiceError
from .plumbing import SageMakerPlumbing, describe_record


class ModelRegistry(SageMakerPlumbing):
    # -- model registry -------------------------------------------------------------------
    def op_create_model_package_group(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["ModelPackageGroupName"]
        if self.store.get("model_package_groups", name) is not None:
            raise ServiceError(
                "ValidationException", f"Model Package Group already exists: {self.arn('model-package-group', name)}"
            )
        arn = self.arn("model-package-group", name)
        record = {k: v for k, v in p.items() if k != "Tags"}
        record.update(
            ModelPackageGroupArn=arn, CreationTime=time.time(), CreatedBy={}, ModelPackageGroupStatus="Completed"
        )
        self.store.put("model_package_groups", name, record)
        return {"ModelPackageGroupArn": arn}

    def ensure_model_package_group(self, name: str, description: str = "") -> None:
        if self.store.get("model_package_groups", name) is None:
            self.op_create_model_package_group(
                {"ModelPackageGroupName": name, "ModelPackageGroupDescription": description}
            )

    def op_describe_model_package_group(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["ModelPackageGroupName"].rsplit("/", 1)[-1]
        record = self.store.get("model_package_groups", name)
        if record is None:
            raise ServiceError("ValidationException", f"ModelPackageGroup {name} does not exist.")
        return describe_record(record, "DescribeModelPackageGroup")

    def op_create_model_package(self, p: dict[str, Any]) -> dict[str, Any]:
        group = p.get("ModelPackageGroupName")
        if group:
            group = group.rsplit("/", 1)[-1]
            if self.store.get("model_package_groups", group) is None:
                raise ServiceError("ValidationException", f"Model Package Group {group} does not exist.")
            version = 1 + sum(1 for r in self.store.values("model_packages") if r.get("ModelPackageGroupName") == group)
            key = f"{group}/{version}"
            arn = self.arn("model-package", key)
            extra = {"ModelPackageGroupName": group, "ModelPackageVersion": version, "ModelPackageName": group}
        else:
            key = p.get("ModelPackageName") or ""
            if not key:
                raise ServiceError("ValidationException", "ModelPackageGroupName or ModelPackageName is required")
            arn = self.arn("model-package", key)
            extra = {"ModelPackageName": key}
        now = time.time()
        record = {k: v for k, v in p.items() if k not in ("Tags", "ClientToken")}
        record.update(extra)
        record.update(
            ModelPackageArn=arn,
            CreationTime=now,
            LastModifiedTime=now,
            ModelPackageStatus="Completed",
            ModelPackageStatusDetails={"ValidationStatuses": [], "ImageScanStatuses": []},
        )
        if group:
            record.setdefault("ModelApprovalStatus", "PendingManualApproval")
        self.store.put("model_packages", key, record)
        self.tag_resource(arn, p.get("Tags"))
        self.notify("model_package", key, record)
        return {"ModelPackageArn": arn}

    def find_package(self, name_or_arn: str) -> dict[str, Any] | None:
        for record in self.store.values("model_packages"):
            if (
                name_or_arn in (record["ModelPackageArn"], record.get("ModelPackageName"))
                and record.get("ModelPackageVersion") is None
            ):
                return record
            if name_or_arn == record["ModelPackageArn"]:
                return record
        return None

    def op_describe_model_package(self, p: dict[str, Any]) -> dict[str, Any]:
        record = self.find_package(p["ModelPackageName"])
        if record is None:
            raise ServiceError("ValidationException", f"ModelPackage {p['ModelPackageName']} does not exist.")
        return describe_record(record, "DescribeModelPackage")

    def op_update_model_package(self, p: dict[str, Any]) -> dict[str, Any]:
        record = self.find_package(p["ModelPackageArn"])
        if record is None:
            raise ServiceError("ValidationException", f"ModelPackage {p['ModelPackageArn']} does not exist.")
        key = (
            f"{record['ModelPackageGroupName']}/{record['ModelPackageVersion']}"
            if record.get("ModelPackageVersion")
            else record["ModelPackageName"]
        )
        fields = {k: v for k, v in p.items() if k != "ModelPackageArn"}
        self.store.update("model_packages", key, **fields)
        self.notify("model_package", key, {**record, **fields})
        return {"ModelPackageArn": record["ModelPackageArn"]}

    def op_list_model_packages(self, p: dict[str, Any]) -> dict[str, Any]:
        records = self.store.values("model_packages")
        if p.get("ModelPackageGroupName"):
            group = p["ModelPackageGroupName"].rsplit("/", 1)[-1]
            records = [r for r in records if r.get("ModelPackageGroupName") == group]
        if p.get("ModelApprovalStatus"):
            records = [r for r in records if r.get("ModelApprovalStatus") == p["ModelApprovalStatus"]]
        records.sort(key=lambda r: r["CreationTime"], reverse=p.get("SortOrder", "Ascending") == "Descending")
        keys = (
            "ModelPackageName",
            "ModelPackageGroupName",
            "ModelPackageVersion",
            "ModelPackageArn",
            "ModelPackageDescription",
            "CreationTime",
            "ModelPackageStatus",
            "ModelApprovalStatus",
        )
        return {"ModelPackageSummaryList": [{k: r.get(k) for k in keys} for r in records[: p.get("MaxResults", 100)]]}
