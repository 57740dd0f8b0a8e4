"""The local run authorizes every call as the principal that would make it on AWS, against the policies in
the synthesized templates (see docs/permissions.md)."""

from .authorizer import AccessDenied, Authorizer, Decision
from .policies import Origin, PolicyStore
from .principals import Principal, acting_as, current
from .requests import Request, requests_for

__all__ = [
    "AccessDenied",
    "Authorizer",
    "Decision",
    "Origin",
    "PolicyStore",
    "Principal",
    "Request",
    "acting_as",
    "current",
    "requests_for",
]
