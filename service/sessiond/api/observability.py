"""Request ids, the access log and per-call metrics: the outermost layer of every call.

* `x-request-id`: taken from the call's metadata when it looks sane, else generated;
  returned in the trailing metadata and bound (structlog contextvars) to every log line
  of the call, including those of runs it starts.
* One JSON access-log line per call: method, code, duration, peer, request id (and the
  token's name once auth has run). Never message bodies, never metadata values.
* `RpcMetrics` receives go-grpc-prometheus style counts; its implementation lives
  outside `api/` (`sessiond.telemetry.metrics`).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import time
from collections.abc import Iterable
from typing import Protocol

import grpc
import structlog
from sessiond.api import wrapping
from sessiond.api.wrapping import Layer, Req, Resp

log = structlog.get_logger("sessiond.access")

REQUEST_ID_KEY = "x-request-id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
# Generated ids: a random prefix per process and a counter, unique across replicas and
# restarts without a uuid4 (16 bytes from the OS) per call.
_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count(1)
_QUIET_PREFIXES = ("/grpc.health.", "/grpc.reflection.")


class MethodMetrics(Protocol):
    """One method's counts (go-grpc-prometheus style); updated on the event loop."""

    def started(self) -> None: ...

    def received(self) -> None: ...

    def sent(self) -> None: ...

    def handled(self, code: str, seconds: float) -> None:
        """The call ended with `code` (a StatusCode name) after `seconds`."""


class RpcMetrics(Protocol):
    """Counts of calls by `grpc_type`, `grpc_service`, `grpc_method` (and `grpc_code`)."""

    def method(self, kind: str, service: str, method: str) -> MethodMetrics:
        """The counts of one method, asked for once when its handler is wrapped."""


class _NoMethodMetrics:
    def started(self) -> None:
        pass

    def received(self) -> None:
        pass

    def sent(self) -> None:
        pass

    def handled(self, code: str, seconds: float) -> None:
        pass


class NoRpcMetrics:
    def method(self, kind: str, service: str, method: str) -> MethodMetrics:
        return _NoMethodMetrics()


def request_id_of(metadata: Iterable[tuple[str, str | bytes]] | None) -> str:
    """The caller's `x-request-id` when it is a plain token of ≤128 chars, else a new one."""
    for key, value in metadata or ():
        if key == REQUEST_ID_KEY and isinstance(value, str) and _REQUEST_ID.fullmatch(value):
            return value
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


def status_of(context: wrapping.Ctx, error: BaseException | None) -> grpc.StatusCode:
    """The status a call ended with, as the client sees it."""
    if isinstance(error, asyncio.CancelledError | GeneratorExit):
        # grpc.aio cancels the handler when the client cancels or its deadline passes.
        remaining = context.time_remaining()
        expired = remaining is not None and remaining <= 0
        return grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int):  # some grpcio versions keep the raw integer
        return next((c for c in grpc.StatusCode if c.value[0] == code), grpc.StatusCode.UNKNOWN)
    if error is not None and not isinstance(error, grpc.aio.AbortError):
        return grpc.StatusCode.UNKNOWN  # how grpc.aio reports an unhandled exception
    return grpc.StatusCode.OK


class _ObservedCall:
    __slots__ = ("context", "method", "peer", "request_id", "started_at")

    def __init__(self, context: wrapping.Ctx, method: _Method) -> None:
        self.context = context
        self.method = method
        self.request_id = ""
        self.started_at = time.perf_counter()
        self.peer = ""

    async def start(self) -> None:
        # Read now: peer() on a call that has already ended (a stream generator finalised
        # later) crashes inside grpc's C core.
        self.peer = self.context.peer()
        self.request_id = request_id_of(self.context.invocation_metadata())
        structlog.contextvars.bind_contextvars(request_id=self.request_id)
        self.context.set_trailing_metadata(((REQUEST_ID_KEY, self.request_id),))
        self.method.metrics.started()

    def received(self) -> None:
        self.method.metrics.received()

    def sent(self) -> None:
        self.method.metrics.sent()

    def finish(self, error: BaseException | None) -> None:
        seconds = time.perf_counter() - self.started_at
        code = status_of(self.context, error).name
        method = self.method
        method.metrics.handled(code, seconds)
        (log.debug if method.quiet else log.info)(
            "rpc",
            method=method.name,
            grpc_type=method.kind,
            code=code,
            duration_ms=round(seconds * 1000, 3),
            peer=self.peer,
        )


class _Method:
    """What every call of one method shares."""

    __slots__ = ("kind", "metrics", "name", "quiet")

    def __init__(self, name: str, kind: str, metrics: MethodMetrics) -> None:
        self.name = name
        self.kind = kind
        self.metrics = metrics
        # Probes and tooling call these constantly; their lines are logged at debug level.
        self.quiet = name.startswith(_QUIET_PREFIXES)


def observability_layer(metrics: RpcMetrics | None = None) -> Layer:
    """The outermost layer: request id, access log line and metrics of every call."""
    rpc_metrics: RpcMetrics = metrics or NoRpcMetrics()

    def layer(name: str, handler: wrapping.Handler[Req, Resp]) -> wrapping.Handler[Req, Resp]:
        kind = wrapping.kind(handler)
        service, _, method_name = name.lstrip("/").rpartition("/")
        method = _Method(name, kind, rpc_metrics.method(kind, service, method_name))
        return wrapping.wrap(handler, lambda context: _ObservedCall(context, method))

    return layer
