"""Whether a channel is trained from memory or streamed, decided before any of it is read.

Streaming algorithms (catalog.STREAMING_ALGORITHMS) read the channel batch by batch; the others hold it in
memory, so they are refused when the channel's files exceed the in-memory share of the instance's memory
(instance_memory.py) instead of running out of memory half-way.
"""

from __future__ import annotations

from .catalog import STREAMING_ALGORITHMS
from .errors import UserError
from .instance_memory import FRACTION_ENV, fraction, memory_bytes


def _size(count: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if count >= 1 << shift:
            return f"{count / (1 << shift):.2f} {unit}"
    return f"{count} bytes"


def streams(algorithm: str, hp: dict, channel_bytes: int, instance_type: str | None) -> bool:
    memory, source = memory_bytes(instance_type)
    share = fraction()
    limit = int(memory * share)
    # xgboost takes external_memory (auto by default); linear-learner streams when its channel is too large
    choice = hp.get("external_memory", "auto") if algorithm in STREAMING_ALGORITHMS else "false"
    if choice == "true":
        return True
    if channel_bytes <= limit:
        return False
    if choice == "auto":
        print(
            f"train channel: {_size(channel_bytes)} > {share:g} of {_size(memory)} ({source}): training from "
            "external memory",
            flush=True,
        )
        return True
    streaming = ", ".join(STREAMING_ALGORITHMS)
    hint = (
        "set external_memory to true or auto"
        if algorithm in STREAMING_ALGORITHMS
        else f"or pick an algorithm that streams ({streaming})"
    )
    raise UserError(
        f"channel 'train' is {_size(channel_bytes)}, more than {share:g} of the instance's "
        f"{_size(memory)} memory ({source}), and {algorithm!r} holds its data in memory; use an "
        f"instance type with more memory, {hint}, or raise {FRACTION_ENV} (now {share:g})"
    )
