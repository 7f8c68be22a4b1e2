"""Request ids, the access log and per-call metrics: one interceptor, outermost.

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
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

import grpc
import structlog
from sessiond.api import wrapping
from sessiond.api.wrapping import Req, Resp

log = structlog.get_logger("sessiond.access")

REQUEST_ID_KEY = "x-request-id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
# Probes and tooling call these constantly; their lines are logged at debug level.
_QUIET_PREFIXES = ("grpc.health.", "grpc.reflection.")


class RpcMetrics(Protocol):
    """Counts of calls by `grpc_type`, `grpc_service`, `grpc_method` (and `grpc_code`)."""

    def started(self, kind: str, service: str, method: str) -> None: ...

    def received(self, kind: str, service: str, method: str) -> None: ...

    def sent(self, kind: str, service: str, method: str) -> None: ...

    def handled(self, kind: str, service: str, method: str, code: str, seconds: float) -> None:
        """The call ended with `code` (a StatusCode name) after `seconds`."""


class NoRpcMetrics:
    def started(self, kind: str, service: str, method: str) -> None:
        pass

    def received(self, kind: str, service: str, method: str) -> None:
        pass

    def sent(self, kind: str, service: str, method: str) -> None:
        pass

    def handled(self, kind: str, service: str, method: str, code: str, seconds: float) -> None:
        pass


def request_id_of(metadata: Iterable[tuple[str, str | bytes]] | None) -> str:
    """The caller's `x-request-id` when it is a plain token of ≤128 chars, else a new one."""
    for key, value in metadata or ():
        if key == REQUEST_ID_KEY and isinstance(value, str) and _REQUEST_ID.fullmatch(value):
            return value
    return uuid.uuid4().hex


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
    def __init__(
        self, context: wrapping.Ctx, labels: tuple[str, str, str], metrics: RpcMetrics
    ) -> None:
        self.context = context
        self.labels = labels
        self.metrics = metrics
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
        self.metrics.started(*self.labels)

    def received(self) -> None:
        self.metrics.received(*self.labels)

    def sent(self) -> None:
        self.metrics.sent(*self.labels)

    def finish(self, error: BaseException | None) -> None:
        seconds = time.perf_counter() - self.started_at
        code = status_of(self.context, error)
        kind, service, method = self.labels
        self.metrics.handled(kind, service, method, code.name, seconds)
        level = log.debug if service.startswith(_QUIET_PREFIXES) else log.info
        level(
            "rpc",
            method=f"/{service}/{method}",
            grpc_type=kind,
            code=code.name,
            duration_ms=round(seconds * 1000, 3),
            peer=self.peer,
        )


class ObservabilityInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, metrics: RpcMetrics | None = None) -> None:
        self.metrics: RpcMetrics = metrics or NoRpcMetrics()
        # The wrapped handler of each method, reused while the inner handler is the same
        # object (it is, unless an inner interceptor makes one per call): wrapping rebuilt
        # a method handler on every call. The request id is read per call, in `start`.
        self._wrapped: dict[str, tuple[object, object]] = {}

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[wrapping.Handler[Req, Resp] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> wrapping.Handler[Req, Resp] | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        full: str = handler_call_details.method
        cached = self._wrapped.get(full)
        if cached is not None and cached[0] is handler:
            return cached[1]  # type: ignore[return-value]
        service, _, method = full.lstrip("/").rpartition("/")
        labels = (wrapping.kind(handler), service, method)
        metrics = self.metrics
        wrapped = wrapping.wrap(handler, lambda context: _ObservedCall(context, labels, metrics))
        if len(self._wrapped) > 1024:
            self._wrapped.clear()
        self._wrapped[full] = (handler, wrapped)
        return wrapped
