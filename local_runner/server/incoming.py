"""What the front reads of a request: the service it is signed for, the JSON target, the body."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from werkzeug.wrappers import Request

RUNTIME_PATH = re.compile(
    r"^/endpoints/(?P<EndpointName>[^/]+)/(?P<kind>invocations|async-invocations|"
    r"invocations-response-stream)$"
)


@dataclass
class Incoming:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    signing_name: str | None  # the service of the SigV4 credential scope ("states", "sagemaker", "s3", ...)
    region: str | None
    target: str | None  # X-Amz-Target of JSON protocols: "SageMaker.ListTrainingJobs"

    @classmethod
    def read(cls, request: Request) -> Incoming:
        auth = request.headers.get("Authorization", "")
        signing_name = region = None
        scope = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request", auth)
        if scope:
            region, signing_name = scope[1], scope[2].lower()
        return cls(
            method=request.method,
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=request.get_data(cache=True),
            signing_name=signing_name,
            region=region,
            target=request.headers.get("X-Amz-Target"),
        )

    @property
    def protocol(self) -> str:
        """The wire protocol the request is in, as the client chose it."""
        if self.target:
            return "json"
        if self.signing_name == "s3":
            return "rest-xml"
        if self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return "query"
        return "rest-json"

    @property
    def query_action(self) -> str | None:
        if self.protocol != "query":
            return None
        return (parse_qs(self.body.decode("utf-8", "replace")).get("Action") or [None])[0]
