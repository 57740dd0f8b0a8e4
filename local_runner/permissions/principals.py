"""Who is calling: the principal that would make a call on AWS, per thread.

The interpreter acts as the state machine's role while it evaluates a Task, a Lambda handler as its
function's role, a SageMaker job or endpoint as its execution role, EventBridge as a target's role.
Calls made outside any of these (the CLI uploading a dataset, a test preparing a bucket) are the
operator's own and are not checked, as an administrator's would not be.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """An IAM role (arn:...:role/...) or a service principal (events.amazonaws.com)."""

    arn: str
    session: str = "local"
    source_arn: str | None = None  # for a service principal: the resource on whose behalf it acts

    @property
    def is_service(self) -> bool:
        return not self.arn.startswith("arn:")

    @property
    def caller(self) -> str:
        """The caller as AWS names it in AccessDenied messages."""
        if self.is_service:
            return self.arn
        account = self.arn.split(":")[4]
        return f"arn:aws:sts::{account}:assumed-role/{self.arn.rsplit('/', 1)[-1]}/{self.session}"


_local = threading.local()


def current() -> Principal | None:
    stack = getattr(_local, "stack", None)
    return stack[-1] if stack else None


@contextlib.contextmanager
def acting_as(principal: Principal | None) -> Iterator[None]:
    """Calls made by this thread inside the block are authorized as `principal` (None: the operator)."""
    stack = _local.__dict__.setdefault("stack", [])
    stack.append(principal)
    try:
        yield
    finally:
        stack.pop()
