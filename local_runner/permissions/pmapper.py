"""PMapper's policy simulation, importable on Python 3.10+.

principalmapper 1.1.5 (the newest release) imports `Mapping` and `MutableMapping` from `collections`, which
Python 3.10 moved to `collections.abc` only; the aliases are put back before it is imported. Nothing else of
the package is patched.
"""

from __future__ import annotations

import collections
import collections.abc

for _name in ("Mapping", "MutableMapping"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from principalmapper.common import Node, Policy  # noqa: E402
from principalmapper.querying import local_policy_simulation as simulation  # noqa: E402
from principalmapper.querying.local_policy_simulation import ResourcePolicyEvalResult  # noqa: E402
from principalmapper.querying.query_interface import local_check_authorization_full  # noqa: E402
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402

__all__ = [
    "CaseInsensitiveDict",
    "Node",
    "Policy",
    "ResourcePolicyEvalResult",
    "local_check_authorization_full",
    "simulation",
]
