"""Whether a channel is trained from memory or streamed, decided before any of it is read.

Streaming algorithms (catalog.STREAMING_ALGORITHMS) read the channel batch by batch; the others hold it in
memory, so they are refused when the channel's files exceed the in-memory share of the instance's memory
(instance_memory.py) instead of running out of memory half-way. Streamed xgboost still holds a few bytes per
row, so its rows are checked against the same share once the scan has counted them, before training starts.
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


def _raise_share(share: float) -> str:
    return f"raise {FRACTION_ENV} (now {share:g}; the pipeline sets it from training.memory_fraction)"


#: xgboost keeps labels, gradients, predictions and row partitions in memory even out of core ("only the
#: predictor data (X) is divided into batches", xgboost's external-memory tutorial). Measured with xgboost 3.2
#: alone (docs/training_code.md, "Scale-out benchmark"): 25 bytes a row plus 15 for each of the objective's
#: outputs (one, or num_class for multi:*); rounded up here.
XGBOOST_ROW_BYTES, XGBOOST_ROW_BYTES_PER_OUTPUT = 28, 16


def xgboost_row_bytes(hp: dict, n_classes: int) -> int:
    outputs = n_classes if str(hp.get("objective", "")).startswith("multi:") else 1
    return XGBOOST_ROW_BYTES + XGBOOST_ROW_BYTES_PER_OUTPUT * max(outputs, 1)


def check_streamed_rows(algorithm: str, hp: dict, rows: int, n_classes: int, instance_type: str | None) -> None:
    """Refuse a streamed xgboost channel whose rows (this host's share) need more than the memory share."""
    if algorithm != "xgboost":
        return  # linear-learner's partial_fit keeps nothing per row
    memory, source = memory_bytes(instance_type)
    share = fraction()
    per_row = xgboost_row_bytes(hp, n_classes)
    if rows * per_row <= memory * share:
        return
    raise UserError(
        f"channel 'train' has {rows} rows on this host, and xgboost keeps about {per_row} bytes a row in memory "
        f"even from external memory ({_size(rows * per_row)}), more than {share:g} of the instance's "
        f"{_size(memory)} memory ({source}); train on more instances (InstanceCount: each host holds only its "
        f"share of the rows), use an instance type with more memory, or {_raise_share(share)}"
    )


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
        f"instance type with more memory, {hint}, or {_raise_share(share)}"
    )
