"""Prometheus metrics: go-grpc-prometheus names and labels, plus sessiond's own.

Each server gets its own `CollectorRegistry` (several servers can run in one process,
as in the tests) served by a small HTTP thread on `metrics_port`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from sessiond.core.observe import RunReport

_RPC_LABELS = ("grpc_type", "grpc_service", "grpc_method")
# Runs last from well under a second (echo) to the 10-minute default timeout.
RUN_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class GrpcMetrics:
    """The go-grpc-prometheus server metrics (`api.observability.RpcMetrics`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._started = Counter(
            "grpc_server_started_total",
            "Total number of RPCs started on the server.",
            _RPC_LABELS,
            registry=registry,
        )
        self._handled = Counter(
            "grpc_server_handled_total",
            "Total number of RPCs completed on the server, regardless of success or failure.",
            (*_RPC_LABELS, "grpc_code"),
            registry=registry,
        )
        self._seconds = Histogram(
            "grpc_server_handling_seconds",
            "Histogram of response latency (seconds) of gRPC that had been application-level "
            "handled by the server.",
            _RPC_LABELS,
            registry=registry,
        )
        self._received = Counter(
            "grpc_server_msg_received_total",
            "Total number of RPC stream messages received on the server.",
            _RPC_LABELS,
            registry=registry,
        )
        self._sent = Counter(
            "grpc_server_msg_sent_total",
            "Total number of gRPC stream messages sent by the server.",
            _RPC_LABELS,
            registry=registry,
        )

        # Labelled children by label values: `labels()` takes a lock and builds keys on
        # every call, and `sent` runs once per streamed message.
        self._children: dict[tuple[object, tuple[str, ...]], Any] = {}

    def _child(self, metric: Counter | Histogram, *labels: str) -> Any:
        key = (metric, labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def started(self, kind: str, service: str, method: str) -> None:
        self._child(self._started, kind, service, method).inc()

    def received(self, kind: str, service: str, method: str) -> None:
        self._child(self._received, kind, service, method).inc()

    def sent(self, kind: str, service: str, method: str) -> None:
        self._child(self._sent, kind, service, method).inc()

    def handled(self, kind: str, service: str, method: str, code: str, seconds: float) -> None:
        self._child(self._handled, kind, service, method, code).inc()
        self._child(self._seconds, kind, service, method).observe(seconds)


class RunMetrics:
    """sessiond's run metrics (`core.observe.RunObserver`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._active = Gauge(
            "sessiond_active_runs", "Runs executing in this process.", registry=registry
        )
        self._duration = Histogram(
            "sessiond_run_duration_seconds",
            "Run duration from start to recorded end, by agent and stop reason.",
            ("agent", "stop_reason"),
            buckets=RUN_BUCKETS,
            registry=registry,
        )
        self._tokens = Counter(
            "sessiond_tokens_total",
            "Tokens the agent backends reported, by agent and direction (input/output).",
            ("agent", "direction"),
            registry=registry,
        )
        self._cost = Counter(
            "sessiond_cost_usd_total",
            "Estimated cost in US dollars, from the configured price table, by agent.",
            ("agent",),
            registry=registry,
        )

    def run_started(self, run_id: str, session_key: str) -> None:
        self._active.inc()

    def run_ended(self, report: RunReport) -> None:
        self._active.dec()
        agent = report.agent_id
        self._duration.labels(agent, report.stop_reason).observe(report.duration_s)
        self._tokens.labels(agent, "input").inc(report.usage.input_tokens)
        self._tokens.labels(agent, "output").inc(report.usage.output_tokens)
        self._cost.labels(agent).inc(report.usage.estimated_cost_usd)


def subscribers_gauge(registry: CollectorRegistry, count: Callable[[], int]) -> None:
    """`sessiond_stream_subscribers`, read from the bus at scrape time."""
    gauge = Gauge(
        "sessiond_stream_subscribers",
        "Open subscriptions to live events (chat and session streams, waiting WaitRuns).",
        registry=registry,
    )
    gauge.set_function(lambda: float(count()))


@dataclass
class MetricsEndpoint:
    """The HTTP server exposing `/metrics` (any path answers)."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> MetricsEndpoint:
    server, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsEndpoint(server, thread)
