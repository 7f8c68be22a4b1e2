"""Optional OpenTelemetry tracing: a span per call, exported over OTLP/gRPC.

Off by default (`SESSIOND_TRACING`); needs the `tracing` extra. The provider is this
server's own (not the global one) so tests and embedders can run several servers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sessiond.config import ConfigError
from sessiond.settings import Config


def tracing_interceptor(config: Config) -> tuple[Any, Callable[[], Awaitable[None]]]:
    """The server interceptor creating spans, and the coroutine flushing them at stop."""
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.grpc import aio_server_interceptor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise ConfigError(
            "tracing needs the OpenTelemetry packages: pip install 'sessiond[tracing]'"
        ) from exc
    provider = TracerProvider(resource=Resource.create({"service.name": "sessiond"}))
    exporter = OTLPSpanExporter(endpoint=config.otlp_endpoint or None)
    provider.add_span_processor(BatchSpanProcessor(exporter))

    async def shutdown() -> None:
        # Flushing blocks on the exporter's network calls: keep it off the event loop.
        await asyncio.to_thread(provider.shutdown)

    interceptor = aio_server_interceptor(tracer_provider=provider)  # type: ignore[no-untyped-call]
    return interceptor, shutdown
