"""The endpoint front's server (see front.py): a reverse proxy to the fleet its route file names.

Run as a script with only httpx and Granian imported, so that it starts in a fraction of a second.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import httpx

ROUTE_FILE = "route.json"
#: Headers of one hop (RFC 9110, 7.6.1) plus the ones httpx recomputes for the body it sends or decoded.
_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host"}
_RECOMPUTED = {"content-length", "content-encoding"}


class Front:
    """The RSGI application: every method and path, forwarded to the routed fleet."""

    def __init__(self, route: Path):
        self.route = route
        self._client: httpx.AsyncClient | None = None

    def target(self) -> str:
        # Read on every request (tens of microseconds): a cache keyed on the file's mtime could miss a switch,
        # as two writes within the kernel's timestamp granularity (milliseconds) look alike.
        return json.loads(self.route.read_text())["url"]

    async def __rsgi__(self, scope, protocol) -> None:
        if self._client is None:  # created in the worker's event loop
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(120.0))
        body = await protocol()
        headers = [(k, v) for k, v in scope.headers.items() if k.lower() not in _HOP]
        query = f"?{scope.query_string}" if scope.query_string else ""
        try:
            answer = await self._client.request(
                scope.method, f"{self.target()}{scope.path}{query}", content=body, headers=headers
            )
        except (httpx.HTTPError, OSError, ValueError) as error:
            message = f"The endpoint's model server did not answer: {error}"
            protocol.response_str(502, [("content-type", "text/plain")], message)
            return
        kept = [(k, v) for k, v in answer.headers.items() if k.lower() not in _HOP | _RECOMPUTED]
        protocol.response_bytes(answer.status_code, kept, answer.content)


def main() -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces

    # a starting worker holds this process's signal handlers, which would swallow a SIGTERM (as in
    # training_code/serving.py, _stop_at_once): until Granian gives it its own, it may end at once
    os.register_at_fork(
        before=lambda: signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS),
        after_in_parent=lambda: signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS),
        after_in_child=_stop_at_once,
    )
    Granian(
        "front_server:create_app",
        factory=True,
        address="127.0.0.1",
        port=int(os.environ["ENDPOINT_FRONT_PORT"]),
        interface=Interfaces.RSGI,
        http=HTTPModes.http1,
        workers=1,
        log_access=False,
    ).serve()


_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _stop_at_once() -> None:
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def create_app() -> Front:
    return Front(Path(os.environ["ENDPOINT_FRONT_ROUTE"]))


if __name__ == "__main__":
    main()
