"""Services registered with the per-call layers (request id, access log, metrics, auth)
already wrapped around each method handler.

A grpc.aio server interceptor runs a coroutine of its own on every call to choose the
handler. Measured on GetSession at 16 calls in flight, an interceptor that only returned
the handler it was given cost about 110 µs of server CPU per call (of ~600). Wrapping
once, at registration, leaves each call only the layers' own work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import grpc
from sessiond.api.wrapping import Handler, Layer


class LayeredRegistration:
    """Stands in for the server where services register (the generated
    `add_*Servicer_to_server`, health, reflection); every handler they add is wrapped by
    `layers`, outermost first."""

    def __init__(self, server: grpc.aio.Server, layers: Sequence[Layer]) -> None:
        self._server = server
        self._layers = tuple(reversed(layers))

    def wrap(self, method: str, handler: Handler[Any, Any]) -> Handler[Any, Any]:
        for layer in self._layers:
            handler = layer(method, handler)
        return handler

    def add_registered_method_handlers(
        self, service: str, handlers: Mapping[str, Handler[Any, Any]]
    ) -> None:
        wrapped = {name: self.wrap(f"/{service}/{name}", h) for name, h in handlers.items()}
        self._server.add_registered_method_handlers(service, wrapped)

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self._server.add_generic_rpc_handlers(tuple(_LayeredGeneric(h, self) for h in handlers))


class _LayeredGeneric(grpc.GenericRpcHandler):
    """A generic handler (looked up per call by method name) with its handlers wrapped,
    each once."""

    def __init__(self, inner: grpc.GenericRpcHandler, registration: LayeredRegistration) -> None:
        self._inner = inner
        self._registration = registration
        self._wrapped: dict[str, tuple[Handler[Any, Any], Handler[Any, Any]]] = {}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> Handler[Any, Any] | None:
        handler: Handler[Any, Any] | None = self._inner.service(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = self._registration.wrap(method, handler)
        if len(self._wrapped) > 1024:  # unknown names are not cached; this bounds the rest
            self._wrapped.clear()
        self._wrapped[method] = (handler, wrapped)
        return wrapped
