"""The front of the local cloud: one WSGI app on 127.0.0.1 that sends each request where it is answered.

- SageMaker and SageMaker Runtime: the project's local SageMaker (sagemaker_api.py);
- Step Functions' calls about executions of an earlier start of the server: the execution archive;
- S3, SNS, SQS, EventBridge, CloudWatch, CloudWatch Logs, STS and the rest of Step Functions: moto's own server
  application (moto_server/werkzeug_app.py), in this process, so it shares moto's backends with the engine.

Requests come from outside the engine, so they act as the account's administrator (no principal: the
permission checks apply to what the engine does on behalf of the templates' roles). Whatever goes wrong answers
in the request's own protocol: an operation not served gets the protocol's unknown-operation error, a bad body
its 400 error; never a traceback."""

from __future__ import annotations

import io
import json
import logging
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from botocore.model import OperationNotFoundError
from botocore.validate import ParamValidator
from werkzeug.test import run_wsgi_app
from werkzeug.wrappers import Request, Response

from .. import stack_outputs
from ..template import REGION
from ..validation import ServiceError, service_model
from . import protocols, query_protocol, sagemaker_api
from .executions import ExecutionArchive
from .incoming import Incoming
from .protocols import Reply

log = logging.getLogger(__name__)

HEALTH_PATH = "/_local/health"
# SigV4 signing name -> botocore's service name, for the services the pipeline uses
SERVED = {
    "states": "stepfunctions",
    "sagemaker": "sagemaker",
    "s3": "s3",
    "sns": "sns",
    "sqs": "sqs",
    "events": "events",
    "monitoring": "cloudwatch",
    "logs": "logs",
    "sts": "sts",
    "cloudformation": "cloudformation",  # DescribeStacks only: the clients find the pipeline by its outputs
}
_ARCHIVED = ("DescribeExecution", "GetExecutionHistory")


class Front:
    def __init__(
        self,
        call: sagemaker_api.Call,
        moto_app: Callable,
        archive: ExecutionArchive,
        health: Callable[[], dict[str, Any]],
        region: str = REGION,
    ):
        self.call, self.moto_app, self.archive, self.health, self.region = call, moto_app, archive, health, region

    def __call__(self, environ, start_response):
        request = Request(environ)
        incoming = Incoming.read(request)
        try:
            reply = self.dispatch(incoming, environ)
        except Exception as error:  # a bug of the engine: AWS's own 500 shape, and the traceback in the log
            log.error("%s %s failed:\n%s", incoming.method, incoming.path, traceback.format_exc())
            reply = protocols.error(incoming.protocol, "InternalFailure", f"the local cloud failed: {error!r}", 500)
        reply.headers.setdefault("x-amzn-RequestId", protocols.request_id())
        return Response(reply.body, reply.status, reply.headers)(environ, start_response)

    def dispatch(self, incoming: Incoming, environ) -> Reply:
        if incoming.path == HEALTH_PATH:
            return Reply(200, json.dumps(self.health()).encode(), {"Content-Type": "application/json"})
        if incoming.region and incoming.region != self.region:
            return protocols.error(
                incoming.protocol,
                "InvalidRegion",
                f"the local cloud serves region {self.region} only, and this request is signed for "
                f"{incoming.region}: export AWS_DEFAULT_REGION={self.region} (or pass --region {self.region})",
            )
        if incoming.signing_name and incoming.signing_name not in SERVED:
            return protocols.unknown_operation(
                incoming.protocol,
                f"the local cloud does not serve {incoming.signing_name}; it serves "
                f"{', '.join(sorted(SERVED.values()))} and sagemaker-runtime",
            )
        if incoming.target and incoming.target.startswith("SageMaker."):
            return sagemaker_api.sagemaker(incoming, self.call)
        if sagemaker_api.is_runtime(incoming):
            return sagemaker_api.runtime(incoming, self.call)
        if incoming.signing_name == "sagemaker":
            return protocols.unknown_operation(
                "rest-json", f"the local cloud does not serve {incoming.method} {incoming.path} of SageMaker"
            )
        if incoming.target and incoming.signing_name in SERVED:
            return self._json(incoming, environ, SERVED[incoming.signing_name])
        if incoming.signing_name == "cloudformation":
            return self._cloudformation(incoming)
        return self._moto(incoming, environ)

    def _json(self, incoming: Incoming, environ, service: str) -> Reply:
        """A JSON-protocol call to one of moto's services, checked against botocore's model first: moto answers a
        missing or wrong parameter with a traceback, AWS with a ValidationException."""
        name = incoming.target.partition(".")[2]
        model = service_model(service)
        content_type = protocols.JSON_TYPES.get(model.metadata.get("jsonVersion", "1.0"))
        if name not in model.operation_names:
            return protocols.unknown_operation("json", f"{service} has no operation {name!r}")
        operation = model.operation_model(name)
        try:
            params = protocols.parse_json(operation, incoming.body)
        except ServiceError as error:
            return protocols.json_error(error.code, error.message, error.status, content_type)
        if operation.input_shape is not None:
            report = ParamValidator().validate(params, operation.input_shape)
            if report.has_errors():
                return protocols.json_error("ValidationException", report.generate_report(), 400, content_type)
        if name in ("StartExecution", "StartSyncExecution") and not params.get("name"):
            # AWS names an unnamed execution with a UUID; moto's server would name it "None"
            params["name"] = str(uuid.uuid4())
            document = json.loads(incoming.body or b"{}")
            incoming.body = json.dumps({**document, "name": params["name"]}).encode()
        if service == "stepfunctions":
            archived = self._archived(name, params, incoming, environ)
            if archived is not None:
                return archived
        return self._moto(incoming, environ)

    def _cloudformation(self, incoming: Incoming) -> Reply:
        """The deployed stacks' outputs (local_runner/stack_outputs.py), in CloudFormation's query protocol."""
        model = service_model("cloudformation")
        action = incoming.query_action
        if action not in stack_outputs.SERVED:
            return protocols.unknown_operation(
                "query", f"the local cloud's CloudFormation serves {', '.join(stack_outputs.SERVED)} only, not {action}"
            )
        operation = model.operation_model(action)
        try:
            response = self.call("cloudformation", action, query_protocol.parse_form(operation, incoming.body))
        except ServiceError as error:
            return protocols.query_error(error.code, error.message, error.status)
        return query_protocol.query_reply(operation, response, model.metadata["xmlNamespace"])

    def _archived(self, name: str, params: dict[str, Any], incoming: Incoming, environ) -> Reply | None:
        if name in _ARCHIVED and self.archive.knows(params.get("executionArn")):
            try:
                answer = self.archive.describe(params) if name == "DescribeExecution" else self.archive.history(params)
            except ServiceError as error:
                return protocols.json_error(error.code, error.message, error.status, protocols.JSON_TYPES["1.0"])
            return Reply(200, json.dumps(answer).encode(), {"Content-Type": protocols.JSON_TYPES["1.0"]})
        if name == "StartExecution" and params.get("name"):
            arn = params["stateMachineArn"].replace(":stateMachine:", ":execution:") + ":" + params["name"]
            if self.archive.knows(arn):
                return protocols.json_error(
                    "ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'", 400, protocols.JSON_TYPES["1.0"]
                )
        if name == "ListExecutions" and not params.get("nextToken"):
            reply = self._moto(incoming, environ)
            if reply.status != 200:
                return reply
            listing = json.loads(reply.body)
            known = {e["executionArn"] for e in listing.get("executions", [])}
            older = [
                s
                for s in self.archive.summaries(params["stateMachineArn"], params.get("statusFilter"))
                if s["executionArn"] not in known
            ]
            listing["executions"] = sorted(
                listing.get("executions", []) + older, key=lambda e: e.get("startDate", 0), reverse=True
            )
            return Reply(200, json.dumps(listing).encode(), reply.headers)
        return None

    def _moto(self, incoming: Incoming, environ) -> Reply:
        environ = {**environ, "wsgi.input": io.BytesIO(incoming.body), "CONTENT_LENGTH": str(len(incoming.body))}
        try:
            body, status, headers = run_wsgi_app(self.moto_app, environ, buffered=True)
            data = b"".join(body)
            if hasattr(body, "close"):
                body.close()
        except (NotImplementedError, OperationNotFoundError) as error:  # moto's for an action it lacks
            action = incoming.target.partition(".")[2] if incoming.target else incoming.query_action
            return protocols.unknown_operation(
                incoming.protocol, f"the local cloud does not serve {action or incoming.path}: {error}"
            )
        code = int(status.split()[0])
        return Reply(code, data, {k: v for k, v in headers.items() if k.lower() not in ("content-length",)})
