"""Local S3: moto's in-process S3, persisted as plain files under `<state dir>/s3/<bucket>/<key>`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .boto_sessions import shared_client
from .template import REGION


def client() -> Any:
    """The process's S3 client (boto_sessions.shared_client): the runner's hooks and moto's stubber are process-wide."""
    return shared_client("s3", REGION)


def split_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def _keys(s3, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys


def download(uri: str, dest: Path) -> int:
    """Copy every object under the URI prefix into dest (SageMaker's S3Prefix semantics)."""
    s3 = client()
    bucket, prefix = split_uri(uri)
    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    for key in _keys(s3, bucket, prefix):
        if key.endswith("/"):
            continue
        rel = key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        count += 1
    return count


def upload_file(path: Path, uri: str) -> None:
    bucket, key = split_uri(uri)
    client().put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


def upload_dir(src: Path, uri: str) -> int:
    bucket, prefix = split_uri(uri)
    s3 = client()
    count = 0
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        key = f"{prefix.rstrip('/')}/{path.relative_to(src).as_posix()}".lstrip("/")
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        count += 1
    return count


def exists(uri: str) -> bool:
    bucket, key = split_uri(uri)
    try:
        client().head_object(Bucket=bucket, Key=key)
        return True
    except Exception:
        return False


def ensure_bucket(name: str) -> None:
    s3 = client()
    try:
        s3.head_bucket(Bucket=name)
    except Exception:
        s3.create_bucket(Bucket=name)


def load(root: Path) -> int:
    """Put every file under root/<bucket>/ into moto's S3 (buckets are created)."""
    count = 0
    if not root.is_dir():
        return 0
    s3 = client()
    for bucket_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        ensure_bucket(bucket_dir.name)
        for path in sorted(p for p in bucket_dir.rglob("*") if p.is_file()):
            s3.put_object(Bucket=bucket_dir.name, Key=path.relative_to(bucket_dir).as_posix(), Body=path.read_bytes())
            count += 1
    return count


def save(root: Path) -> int:
    """Write every object of every bucket to root/<bucket>/<key>; remove files of deleted objects."""
    s3 = client()
    count = 0
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        bucket_dir = root / name
        bucket_dir.mkdir(parents=True, exist_ok=True)
        wanted = set()
        for key in _keys(s3, name, ""):
            if key.endswith("/") or ".." in key.split("/"):
                continue
            target = bucket_dir / key
            wanted.add(target)
            body = s3.get_object(Bucket=name, Key=key)["Body"].read()
            if not target.is_file() or target.stat().st_size != len(body) or target.read_bytes() != body:
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(target.name + ".tmp-local-runner")
                tmp.write_bytes(body)
                os.replace(tmp, target)
            count += 1
        for path in [p for p in bucket_dir.rglob("*") if p.is_file() and p not in wanted]:
            path.unlink()
    return count
