"""Memory of SageMaker instance types, and how much of it an in-memory algorithm may fill with its channel.

botocore's model has no memory sizes, so this is a small table from the EC2 instance type pages (the ml.
types have their EC2 twin's memory). A type not in the table falls back to the memory the container sees
(on SageMaker that is the instance's; locally it is this machine's).
"""

from __future__ import annotations

import os

GIB = 1 << 30
#: GiB per instance type, per family: size -> GiB (EC2's published sizes).
_FAMILIES = {
    "m5": {"large": 8, "xlarge": 16, "2xlarge": 32, "4xlarge": 64, "12xlarge": 192, "24xlarge": 384},
    "m6i": {"large": 8, "xlarge": 16, "2xlarge": 32, "4xlarge": 64, "8xlarge": 128, "16xlarge": 256, "32xlarge": 512},
    "c5": {"large": 4, "xlarge": 8, "2xlarge": 16, "4xlarge": 32, "9xlarge": 72, "18xlarge": 144},
    "r5": {"large": 16, "xlarge": 32, "2xlarge": 64, "4xlarge": 128, "12xlarge": 384, "24xlarge": 768},
    "t3": {"medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32},
    "g4dn": {"xlarge": 16, "2xlarge": 32, "4xlarge": 64, "8xlarge": 128, "12xlarge": 192, "16xlarge": 256},
}
MEMORY_GIB = {f"ml.{family}.{size}": gib for family, sizes in _FAMILIES.items() for size, gib in sizes.items()}
#: The share of the instance's memory an in-memory algorithm's channel may take (its parsed matrix, the
#: model's copies and the library's own buffers take several times the file size); TRAINING_MEMORY_FRACTION
#: overrides it.
DEFAULT_FRACTION = 0.25
FRACTION_ENV = "TRAINING_MEMORY_FRACTION"


def memory_bytes(instance_type: str | None) -> tuple[int, str]:
    """(bytes, where the figure comes from)."""
    if instance_type in MEMORY_GIB:
        return MEMORY_GIB[instance_type] * GIB, instance_type
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "this machine"


def fraction() -> float:
    from .errors import UserError

    raw = os.environ.get(FRACTION_ENV)
    if not raw:
        return DEFAULT_FRACTION
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise UserError(f"{FRACTION_ENV} must be a number in (0, 1], got {raw!r}")
    return value
