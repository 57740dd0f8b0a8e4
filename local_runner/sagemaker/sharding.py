"""Which S3 objects a host gets: S3DataDistributionType as SageMaker applies it.

FullyReplicated: every host gets every object. ShardedByS3Key: "each instance gets approximately 1/n of the
number of S3 objects" (the S3DataSource reference); SageMaker does not document the assignment, so here the
keys, sorted, go round-robin: host i (0-based) gets keys i, i+n, i+2n, ... Each object goes to exactly one
host, and a host may get none when there are fewer objects than hosts, as on SageMaker.
"""

from __future__ import annotations

from pathlib import Path

from .. import s3

SHARDED = "ShardedByS3Key"


def share(keys: list[str], distribution: str | None, index: int, count: int) -> list[str]:
    """The keys host `index` of `count` receives."""
    ordered = sorted(keys)
    if distribution != SHARDED or count == 1:
        return ordered
    return ordered[index::count]


def _object_keys(client, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []) if not obj["Key"].endswith("/"))
    return keys


def download(uri: str, dest: Path, distribution: str | None = None, index: int = 0, count: int = 1) -> tuple[int, int]:
    """Copy host `index`'s share of the objects under the URI prefix into `dest` (S3Prefix semantics).
    Returns (objects copied, objects under the prefix)."""
    client = s3.client()
    bucket, prefix = s3.split_uri(uri)
    dest.mkdir(parents=True, exist_ok=True)
    keys = _object_keys(client, bucket, prefix)
    mine = share(keys, distribution, index, count)
    for key in mine:
        rel = key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    return len(mine), len(keys)
