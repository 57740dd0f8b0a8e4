"""Route boto3 calls for locally implemented services to their Python implementation.

botocore emits `before-parameter-build` and `before-call` for every API call;
a `before-call` handler that returns `(http_response, parsed)` replaces the HTTP
request. The handlers are added to botocore's BUILTIN_HANDLERS, so every session
created afterwards (moto resets boto3's default session when it starts, and the
interpreter creates its clients from it) carries them; they do nothing unless a
`Router` is active. S3, SNS and SQS are left to moto, once the router's authorizer (when it has one) has
authorized the call as the principal the calling thread acts as (see permissions/).
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ParamValidationError
from botocore.handlers import BUILTIN_HANDLERS
from botocore.validate import ParamValidator

from .validation import ServiceError

if TYPE_CHECKING:
    from .permissions import Authorizer

Handler = Callable[[str, dict[str, Any]], dict[str, Any]]
Check = Callable[[str, str, dict[str, Any]], None]

_PARAMS_KEY = "local_runner.params"


class Router:
    """The services answered in-process, by botocore service name."""

    def __init__(self) -> None:
        self.services: dict[str, Handler] = {}
        self.checks: list[Check] = []
        self.authorizer: Authorizer | None = None  # checks every call, moto's services included
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def register(self, service: str, handler: Handler) -> None:
        self.services[service] = handler

    def call(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append((service, operation))
        for check in self.checks:
            check(service, operation, params)
        return self.services[service](operation, params)


_active: Router | None = None
_installed = False


def activate(router: Router) -> None:
    global _active
    install()
    _active = router


def deactivate(router: Router) -> None:
    global _active
    if _active is router:
        _active = None


def active() -> Router | None:
    return _active


def _service(model) -> str:
    return model.service_model.service_name


def _before_parameter_build(params, model, context, **kwargs):
    router = _active
    if router is None:
        return
    if _service(model) not in router.services:
        if router.authorizer is not None:
            context[_PARAMS_KEY] = dict(params)  # read by the authorization check only
        return
    # Every client validates, as botocore does by default: the interpreter's clients are created without
    # validation, and a wrong shape would otherwise crash the serializer. The interpreter names the error.
    if model.input_shape is not None:
        report = ParamValidator().validate(params, model.input_shape)
        if report.has_errors():
            raise ParamValidationError(report=report.generate_report())
    context[_PARAMS_KEY] = copy.deepcopy(params)


def _before_call(model, params, context, **kwargs):
    router = _active
    service = _service(model)
    if router is None or (service not in router.services and router.authorizer is None):
        return None
    api_params = context.get(_PARAMS_KEY, {})
    request_id = str(uuid.uuid4())
    try:
        if router.authorizer is not None:
            router.authorizer.check_call(service, model.name, api_params)
        if service not in router.services:
            return None  # authorized: on to moto
        parsed = router.call(service, model.name, api_params)
        status = parsed.pop("__status__", 200)
    except ServiceError as error:
        parsed = {"Error": {"Code": error.code, "Message": error.message}}
        status = error.status
    parsed["ResponseMetadata"] = {
        "RequestId": request_id,
        "HTTPStatusCode": status,
        "HTTPHeaders": {"x-amzn-requestid": request_id},
        "RetryAttempts": 0,
    }
    return AWSResponse("http://local-runner/", status, {}, None), parsed


def install() -> None:
    """Register the hooks for sessions created from now on and for boto3's current default one."""
    global _installed
    if _installed:
        return
    _installed = True
    BUILTIN_HANDLERS.append(("before-parameter-build", _before_parameter_build))
    BUILTIN_HANDLERS.append(("before-call", _before_call))
    if boto3.DEFAULT_SESSION is not None:
        events = boto3.DEFAULT_SESSION._session.get_component("event_emitter")
        events.register("before-parameter-build", _before_parameter_build)
        events.register("before-call", _before_call)
