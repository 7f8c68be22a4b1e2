"""Request ids, the access log, Prometheus metrics, deadlines, the INTERNAL catch-all and
OpenTelemetry tracing, against a real server."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import grpc
import pytest
import structlog
from conftest import ServerHandle
from helpers import (
    assert_eventually,
    error_domain,
    error_info,
    expect_error,
    read_to_end,
    rich_status,
)
from prometheus_client.parser import text_string_to_metric_families
from sessiond.config import AgentConfig, Config
from sessiond.server import start_server
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

SESSION = "sessiond.v1.SessionService"
CHAT = "sessiond.v1.ChatService"


@pytest.fixture
def config(config: Config) -> Config:
    # A price of $1 per token makes the cost counter equal the token counter.
    priced = AgentConfig(price_input_per_mtok=1e6, price_output_per_mtok=1e6)
    return replace(config, metrics_port=0, echo_delay_ms=0, agents={"main": priced})


def trailing(error: grpc.aio.AioRpcError) -> dict[str, Any]:
    return dict(error.trailing_metadata() or ())


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def rpc_labels(kind: str, service: str, method: str, **extra: str) -> frozenset[tuple[str, str]]:
    labels = {"grpc_type": kind, "grpc_service": service, "grpc_method": method, **extra}
    return frozenset(labels.items())


async def test_metrics_count_calls_by_method_and_code(
    server: ServerHandle,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    await sessions.CreateSession(spb.CreateSessionRequest(key="m1"))
    await sessions.CreateSession(spb.CreateSessionRequest(key="m2"))
    await expect_error(
        sessions.GetSession(spb.GetSessionRequest(key="gone")), grpc.StatusCode.NOT_FOUND
    )
    replies = await read_to_end(chat.Chat(cpb.ChatRequest(session_key="m1", text="hello metrics")))
    assert replies[-1].event.HasField("final")
    assert server.running is not None
    assert server.running.metrics_port
    port = server.running.metrics_port

    def check() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        samples = scrape(port)
        # The run's end is recorded just after its final event is streamed.
        assert samples[("sessiond_active_runs", frozenset())] == 0
        return samples

    samples = await assert_eventually(lambda: asyncio.to_thread(check))
    create = rpc_labels("unary", SESSION, "CreateSession")
    assert samples[("grpc_server_started_total", create)] == 2
    assert samples[("grpc_server_handled_total", create | {("grpc_code", "OK")})] == 2
    assert samples[("grpc_server_handling_seconds_count", create)] == 2
    assert samples[("grpc_server_msg_received_total", create)] == 2
    get = rpc_labels("unary", SESSION, "GetSession", grpc_code="NOT_FOUND")
    assert samples[("grpc_server_handled_total", get)] == 1
    stream = rpc_labels("server_stream", CHAT, "Chat")
    assert samples[("grpc_server_msg_sent_total", stream)] == len(replies)
    assert samples[("grpc_server_handled_total", stream | {("grpc_code", "OK")})] == 1
    run = frozenset({("agent", "main"), ("stop_reason", "completed")})
    assert samples[("sessiond_run_duration_seconds_count", run)] == 1
    tokens = sum(
        samples[("sessiond_tokens_total", frozenset({("agent", "main"), ("direction", d)}))]
        for d in ("input", "output")
    )
    assert tokens > 0
    assert samples[("sessiond_cost_usd_total", frozenset({("agent", "main")}))] == pytest.approx(
        tokens
    )
    assert ("sessiond_stream_subscribers", frozenset()) in samples


async def test_metrics_are_off_by_default(tmp_path: Any) -> None:
    running = await start_server(Config(port=0, db_path=tmp_path / "x.db"))
    try:
        assert running.metrics_port is None
    finally:
        await running.stop(0)


async def test_request_id_round_trips_and_is_on_every_log_line(
    sessions: session_service_pb2_grpc.SessionServiceStub,
) -> None:
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        call = sessions.CreateSession(
            spb.CreateSessionRequest(key="body-marker-xyz"),
            metadata=(("x-request-id", "req-42.a"),),
        )
        await call
        assert dict(await call.trailing_metadata())["x-request-id"] == "req-42.a"
        err = await expect_error(
            sessions.GetSession(spb.GetSessionRequest(key="nope")), grpc.StatusCode.NOT_FOUND
        )
    generated = trailing(err)["x-request-id"]
    assert len(generated) == 32, "generated when absent"
    assert error_info(err)[0] == "SESSION_NOT_FOUND", "details survive beside the request id"
    access = [entry for entry in logs if entry["event"] == "rpc"]
    assert {entry["request_id"] for entry in access} == {"req-42.a", generated}
    first = next(entry for entry in access if entry["request_id"] == "req-42.a")
    assert first["method"] == f"/{SESSION}/CreateSession"
    assert first["code"] == "OK"
    assert first["peer"].startswith(("ipv4:127.0.0.1", "ipv6:"))
    assert first["duration_ms"] >= 0
    assert "body-marker-xyz" not in repr(access), "no message bodies in the access log"


async def test_unsafe_request_ids_are_replaced(
    sessions: session_service_pb2_grpc.SessionServiceStub,
) -> None:
    call = sessions.CreateSession(
        spb.CreateSessionRequest(key="x"), metadata=(("x-request-id", "bad id with spaces"),)
    )
    await call
    assert dict(await call.trailing_metadata())["x-request-id"] != "bad id with spaces"


async def test_deadline_passing_while_waiting_on_the_store(
    server: ServerHandle,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert server.running is not None
    store = server.running.store
    stopped = asyncio.Event()

    async def slow_read(fn: Any) -> Any:
        try:
            await asyncio.sleep(30)
        finally:
            stopped.set()  # the server gave up on the read at the deadline

    await sessions.CreateSession(spb.CreateSessionRequest(key="slow"))
    monkeypatch.setattr(store, "read", slow_read)
    with structlog.testing.capture_logs() as logs:
        await expect_error(
            sessions.GetSession(spb.GetSessionRequest(key="slow"), timeout=0.3),
            grpc.StatusCode.DEADLINE_EXCEEDED,
        )
        await asyncio.wait_for(stopped.wait(), 5)

        def access_codes() -> list[str]:
            # The line is written when the handler's abort has been sent, which can be
            # after the read was cancelled: wait for it rather than for the read alone.
            codes = [
                e["code"]
                for e in logs
                if e["event"] == "rpc" and e["method"].endswith("/GetSession")
            ]
            assert codes, "the access log has the call"
            return codes

        assert await assert_eventually(access_codes) == ["DEADLINE_EXCEEDED"]


async def test_unexpected_error_is_internal_without_its_text(
    server: ServerHandle,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert server.running is not None

    async def broken_read(fn: Any) -> Any:
        raise RuntimeError("secret detail: /var/lib/sessiond password=hunter2")

    monkeypatch.setattr(server.running.store, "read", broken_read)
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        err = await expect_error(
            sessions.ListSessions(spb.ListSessionsRequest(), metadata=(("x-request-id", "r-500"),)),
            grpc.StatusCode.INTERNAL,
        )
    assert err.details() == "internal error"
    status = rich_status(err)
    assert status is not None
    assert "secret" not in repr(status)
    assert "hunter2" not in repr(trailing(err))
    assert error_info(err)[0] == "INTERNAL"
    assert error_domain(err) == "sessiond"
    logged = next(e for e in logs if e["event"] == "rpc.internal_error")
    assert logged["request_id"] == "r-500", "the server log ties the failure to the call"
    assert logged["error_type"] == "RuntimeError"


# -- OpenTelemetry ---------------------------------------------------------------------


@pytest.fixture
async def collector() -> AsyncIterator[tuple[str, list[Any]]]:
    """A fake OTLP/gRPC collector recording the spans it receives."""
    from opentelemetry.proto.collector.trace.v1 import (
        trace_service_pb2,
        trace_service_pb2_grpc,
    )

    received: list[Any] = []

    class Collector(trace_service_pb2_grpc.TraceServiceServicer):
        async def Export(self, request: Any, context: Any) -> Any:
            received.extend(
                span
                for resource in request.resource_spans
                for scope in resource.scope_spans
                for span in scope.spans
            )
            return trace_service_pb2.ExportTraceServiceResponse()

    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Collector(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        await server.stop(0)


async def test_tracing_exports_a_span_per_call(
    tmp_path: Any, collector: tuple[str, list[Any]]
) -> None:
    endpoint, spans = collector
    config = Config(port=0, db_path=tmp_path / "t.db", tracing=True, otlp_endpoint=endpoint)
    running = await start_server(config)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = session_service_pb2_grpc.SessionServiceStub(channel)
            await stub.CreateSession(spb.CreateSessionRequest(key="traced"))
    finally:
        await running.stop(0)  # flushes the spans
    names = {span.name for span in spans}
    assert f"/{SESSION}/CreateSession" in names


def test_log_timestamps_match_structlogs_iso_utc_format() -> None:
    from datetime import datetime

    from sessiond.logging_setup import IsoUtcStamper

    stamp = IsoUtcStamper()
    reference = structlog.processors.TimeStamper(fmt="iso", utc=True)
    for _ in range(3):  # the second call reuses the formatted second
        ours = stamp(None, "info", {})["timestamp"]
        theirs = reference(None, "info", {})["timestamp"]
        assert len(ours) == len(theirs)
        assert ours.endswith("Z")
        parsed = [datetime.fromisoformat(t.removesuffix("Z")) for t in (ours, theirs)]
        assert abs((parsed[1] - parsed[0]).total_seconds()) < 1


def test_a_method_wrapped_twice_shares_one_set_of_counts() -> None:
    # Generated servicers register each handler by name and generically; both wrappings
    # must count into one series, or a scrape would show the labels twice.
    from prometheus_client import CollectorRegistry
    from sessiond.telemetry.metrics import GrpcMetrics

    metrics = GrpcMetrics(CollectorRegistry())
    first = metrics.method("unary", SESSION, "GetSession")
    assert metrics.method("unary", SESSION, "GetSession") is first
    assert metrics.method("unary", SESSION, "ListSessions") is not first
