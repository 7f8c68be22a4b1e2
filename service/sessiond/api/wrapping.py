"""Wrapping grpc.aio method handlers of all four kinds, for the per-call layers.

A `Layer` gets a method's name and handler when services are registered and returns the
handler to serve; `wrap` runs a `Call` around the original behaviour: `start` first (it
may abort the call), `received`/`sent` per message, `finish` once with whatever ended
the call.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeAlias, TypeVar, cast

import grpc

Ctx = grpc.aio.ServicerContext[Any, Any]
Req = TypeVar("Req")
Resp = TypeVar("Resp")
# A string: RpcMethodHandler is generic in the type stubs only, not at run time.
Handler: TypeAlias = "grpc.RpcMethodHandler[Req, Resp]"


class Call(Protocol):
    async def start(self) -> None:
        """Runs before the behaviour, in the call's task; may abort the call."""

    def received(self) -> None:
        """A request message was read."""

    def sent(self) -> None:
        """A response message was produced (not counted for handlers that stream with
        `context.write`, such as health's Watch)."""

    def finish(self, error: BaseException | None) -> None:
        """The call ended: normally (None), aborted, cancelled or failed."""


CallFactory = Callable[[Ctx], Call]
Layer: TypeAlias = Callable[[str, "Handler[Any, Any]"], "Handler[Any, Any]"]
"""Given a method's full name (`/package.Service/Method`) and handler, the handler to
serve in its place."""


def kind(handler: grpc.RpcMethodHandler[Any, Any]) -> str:
    """The go-grpc-prometheus `grpc_type` of a handler."""
    if handler.request_streaming:
        return "bidi_stream" if handler.response_streaming else "client_stream"
    return "server_stream" if handler.response_streaming else "unary"


def wrap(handler: Handler[Req, Resp], factory: CallFactory) -> Handler[Req, Resp]:
    """`handler` with a `Call` from `factory` run around each invocation."""
    behaviour = _behaviour(handler)
    request_streaming = handler.request_streaming
    if not handler.response_streaming:
        return _rebuild(handler, _unary_response(behaviour, factory, request_streaming))
    if inspect.isasyncgenfunction(behaviour):
        return _rebuild(handler, _generator_response(behaviour, factory, request_streaming))
    return _rebuild(handler, _unary_response(behaviour, factory, request_streaming))


def _behaviour(handler: grpc.RpcMethodHandler[Any, Any]) -> Callable[..., Any]:
    found = (
        handler.unary_unary or handler.unary_stream or handler.stream_unary or handler.stream_stream
    )
    assert found is not None, "a method handler has one behaviour"
    return found


def _rebuild(handler: Handler[Req, Resp], behaviour: Callable[..., Any]) -> Handler[Req, Resp]:
    decode, encode = handler.request_deserializer, handler.response_serializer
    if handler.request_streaming and handler.response_streaming:
        rebuilt: Any = grpc.stream_stream_rpc_method_handler(behaviour, decode, encode)
    elif handler.request_streaming:
        rebuilt = grpc.stream_unary_rpc_method_handler(behaviour, decode, encode)
    elif handler.response_streaming:
        rebuilt = grpc.unary_stream_rpc_method_handler(behaviour, decode, encode)
    else:
        rebuilt = grpc.unary_unary_rpc_method_handler(behaviour, decode, encode)
    return cast("Handler[Req, Resp]", rebuilt)


async def _counted(requests: AsyncIterator[Any], call: Call) -> AsyncIterator[Any]:
    async for request in requests:
        call.received()
        yield request


async def _started(call: Call, request: Any, request_streaming: bool) -> Any:
    """Starts the observed call and counts the request (a stream's as each arrives)."""
    await call.start()
    if request_streaming:
        return _counted(request, call)
    call.received()
    return request


def _unary_response(
    behaviour: Callable[..., Any], factory: CallFactory, request_streaming: bool
) -> Callable[[Any, Ctx], Awaitable[Any]]:
    """Unary responses, and streams written with `context.write` (a coroutine)."""

    async def run(request: Any, context: Ctx) -> Any:
        call = factory(context)
        try:
            request = await _started(call, request, request_streaming)
            result = behaviour(request, context)
            if inspect.isawaitable(result):
                result = await result
            if result is not None:
                call.sent()
        except BaseException as exc:
            call.finish(exc)
            raise
        call.finish(None)
        return result

    return run


def _generator_response(
    behaviour: Callable[..., AsyncIterator[Any]], factory: CallFactory, request_streaming: bool
) -> Callable[[Any, Ctx], AsyncIterator[Any]]:
    async def run(request: Any, context: Ctx) -> AsyncIterator[Any]:
        call = factory(context)
        try:
            request = await _started(call, request, request_streaming)
            async for response in behaviour(request, context):
                call.sent()
                yield response
        except BaseException as exc:
            call.finish(exc)
            raise
        call.finish(None)

    return run
