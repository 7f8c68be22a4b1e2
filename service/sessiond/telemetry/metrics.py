"""Prometheus metrics: go-grpc-prometheus names and labels, plus sessiond's own.

Each server gets its own `CollectorRegistry` (several servers can run in one process,
as in the tests) served by a small HTTP thread on `metrics_port`.
"""

from __future__ import annotations

import bisect
import itertools
import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sessiond.core.runs.observe import RunReport

_RPC_LABELS = ("grpc_type", "grpc_service", "grpc_method")
_SECONDS_BUCKETS = Histogram.DEFAULT_BUCKETS
_BUCKET_BOUNDS = tuple("+Inf" if math.isinf(b) else str(b) for b in _SECONDS_BUCKETS)
# Runs last from well under a second (echo) to the 10-minute default timeout.
RUN_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class _MethodCounts:
    """One method's go-grpc-prometheus counts as plain numbers (`api.observability.
    MethodMetrics`), read by `GrpcMetrics.collect` at scrape time.

    Updated on the event loop only; prometheus_client's labelled metrics take a lock and
    do several calls per update, which cost a busy server ~60 µs per call."""

    __slots__ = (
        "buckets",
        "codes",
        "labels",
        "received_count",
        "seconds_sum",
        "sent_count",
        "started_count",
    )

    def __init__(self, labels: tuple[str, str, str]) -> None:
        self.labels = labels
        self.started_count = 0
        self.received_count = 0
        self.sent_count = 0
        self.codes: dict[str, int] = {}
        self.buckets = [0] * len(_SECONDS_BUCKETS)
        self.seconds_sum = 0.0

    def started(self) -> None:
        self.started_count += 1

    def received(self) -> None:
        self.received_count += 1

    def sent(self) -> None:
        self.sent_count += 1

    def handled(self, code: str, seconds: float) -> None:
        self.codes[code] = self.codes.get(code, 0) + 1
        self.buckets[bisect.bisect_left(_SECONDS_BUCKETS, seconds)] += 1
        self.seconds_sum += seconds


class GrpcMetrics(Collector):
    """The go-grpc-prometheus server metrics (`api.observability.RpcMetrics`): a method's
    series appear once it has been called."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._methods: dict[tuple[str, str, str], _MethodCounts] = {}
        registry.register(self)

    def method(self, kind: str, service: str, method: str) -> _MethodCounts:
        # One set of counts per label set, however often its handler is wrapped (a
        # generated servicer registers each handler twice: by name and generically).
        labels = (kind, service, method)
        counts = self._methods.get(labels)
        if counts is None:
            counts = self._methods[labels] = _MethodCounts(labels)
        return counts

    def describe(self) -> list[Metric]:
        return list(self._families([]))

    def collect(self) -> list[Metric]:
        methods = list(self._methods.values())
        return list(self._families([m for m in methods if m.started_count]))

    def _families(self, methods: list[_MethodCounts]) -> Iterator[Metric]:
        started = CounterMetricFamily(
            "grpc_server_started",
            "Total number of RPCs started on the server.",
            labels=_RPC_LABELS,
        )
        handled = CounterMetricFamily(
            "grpc_server_handled",
            "Total number of RPCs completed on the server, regardless of success or failure.",
            labels=(*_RPC_LABELS, "grpc_code"),
        )
        seconds = HistogramMetricFamily(
            "grpc_server_handling_seconds",
            "Histogram of response latency (seconds) of gRPC that had been application-level "
            "handled by the server.",
            labels=_RPC_LABELS,
        )
        received = CounterMetricFamily(
            "grpc_server_msg_received",
            "Total number of RPC stream messages received on the server.",
            labels=_RPC_LABELS,
        )
        sent = CounterMetricFamily(
            "grpc_server_msg_sent",
            "Total number of gRPC stream messages sent by the server.",
            labels=_RPC_LABELS,
        )
        for counts in methods:
            labels = list(counts.labels)
            started.add_metric(labels, counts.started_count)
            received.add_metric(labels, counts.received_count)
            sent.add_metric(labels, counts.sent_count)
            for code, count in list(counts.codes.items()):
                handled.add_metric([*labels, code], count)
            cumulative = list(itertools.accumulate(counts.buckets))
            buckets = list(zip(_BUCKET_BOUNDS, cumulative, strict=True))
            seconds.add_metric(labels, buckets, counts.seconds_sum)
        yield from (started, handled, seconds, received, sent)


OTHER = "other"


@dataclass(frozen=True)
class UsageLabels:
    """The label values tenant usage series may take, from the config, so their number is
    bounded whatever callers do: the configured tenants (and those tokens name), the
    configured agents, and each agent's declared models (its model, allowed models and
    priced models); anything else is `other`, and no model at all is `none`."""

    tenants: frozenset[str] = frozenset({"default"})
    models: dict[str, frozenset[str]] = field(default_factory=dict)
    """By agent id; the agents' ids are its keys."""

    def of(self, report: RunReport) -> tuple[str, str, str]:
        tenant = report.tenant if report.tenant in self.tenants else OTHER
        models = self.models.get(report.agent_id)
        if models is None:
            return tenant, OTHER, OTHER
        if not report.model:
            return tenant, report.agent_id, "none"
        return tenant, report.agent_id, report.model if report.model in models else OTHER


class RunMetrics:
    """sessiond's run metrics (`core.observe.RunObserver`)."""

    def __init__(self, registry: CollectorRegistry, labels: UsageLabels) -> None:
        self.labels = labels
        usage = ("tenant", "agent", "model")
        self._tenant_runs = Counter(
            "sessiond_tenant_runs_total",
            "Runs this process executed, by tenant, agent and model (bounded label sets).",
            usage,
            registry=registry,
        )
        self._tenant_tokens = Counter(
            "sessiond_tenant_tokens_total",
            "Tokens of those runs (reported, or estimated for a stopped run), by tenant, "
            "agent, model and direction (input/output).",
            (*usage, "direction"),
            registry=registry,
        )
        self._tenant_cost = Counter(
            "sessiond_tenant_cost_usd_total",
            "Estimated cost of those runs in US dollars, by tenant, agent and model.",
            usage,
            registry=registry,
        )
        self._by_tenant: dict[tuple[str, str, str], tuple[Any, Any, Any, Any]] = {}
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
            "Tokens the agent backends reported (estimated for a stopped run), by agent and "
            "direction (input/output).",
            ("agent", "direction"),
            registry=registry,
        )
        self._cost = Counter(
            "sessiond_cost_usd_total",
            "Estimated cost in US dollars, from the configured price table, by agent.",
            ("agent",),
            registry=registry,
        )
        self._labelled: dict[tuple[str, str], tuple[Any, Any, Any, Any]] = {}

    def run_started(self, run_id: str, session_key: str) -> None:
        self._active.inc()

    def run_ended(self, report: RunReport) -> None:
        self._active.dec()
        duration, tokens_in, tokens_out, cost = self._children(report.agent_id, report.stop_reason)
        duration.observe(report.duration_s)
        tokens_in.inc(report.usage.input_tokens)
        tokens_out.inc(report.usage.output_tokens)
        cost.inc(report.usage.estimated_cost_usd)
        runs, tokens_in, tokens_out, cost = self._tenant_children(self.labels.of(report))
        runs.inc()
        tokens_in.inc(report.usage.input_tokens)
        tokens_out.inc(report.usage.output_tokens)
        cost.inc(report.usage.estimated_cost_usd)

    def _tenant_children(self, labels: tuple[str, str, str]) -> tuple[Any, Any, Any, Any]:
        found = self._by_tenant.get(labels)
        if found is None:
            found = self._by_tenant[labels] = (
                self._tenant_runs.labels(*labels),
                self._tenant_tokens.labels(*labels, "input"),
                self._tenant_tokens.labels(*labels, "output"),
                self._tenant_cost.labels(*labels),
            )
        return found

    def _children(self, agent: str, stop_reason: str) -> tuple[Any, Any, Any, Any]:
        # `labels()` takes a lock and builds its key on every call: once per agent and
        # stop reason instead (a handful of each).
        key = (agent, stop_reason)
        found = self._labelled.get(key)
        if found is None:
            found = self._labelled[key] = (
                self._duration.labels(agent, stop_reason),
                self._tokens.labels(agent, "input"),
                self._tokens.labels(agent, "output"),
                self._cost.labels(agent),
            )
        return found


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
