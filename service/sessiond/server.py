"""The composition root with `sessiond.wiring`: a server's lifecycle. Everything is built
by constructors, in dependency order:

1. `wiring.open_backends`: the store, the bus and the agents' backends;
2. `wiring.build_core`: the core services over them;
3. `build_grpc_server`: the gRPC server with every service registered and its port bound;
4. `start_background`: the periodic maintenance tasks.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import structlog
from grpc_health.v1 import health
from prometheus_client import CollectorRegistry
from sessiond.api.auth import TokenTable, auth_layer
from sessiond.api.observability import observability_layer
from sessiond.api.services import CoreServices, register_services, set_serving
from sessiond.api.wrapping import Layer
from sessiond.bus.base import EventBus
from sessiond.config import Config, ConfigError
from sessiond.config_checks import exposure_problem
from sessiond.core.maintenance.retention import (
    prune_events_periodically,
    sweep_periodically,
)
from sessiond.core.runs.executor import RunExecutor
from sessiond.core.runs.recovery import recover
from sessiond.domain.models import StopReason
from sessiond.policies import cleanup_policy, usage_labels
from sessiond.store.base import Store
from sessiond.telemetry.metrics import (
    GrpcMetrics,
    MetricsEndpoint,
    RunMetrics,
    serve_metrics,
    subscribers_gauge,
)
from sessiond.transport import bind, channel_options, server_credentials
from sessiond.wiring import Backends, Core, build_core, describe_store, open_backends

log = structlog.get_logger(__name__)


def interceptors(config: Config) -> tuple[list[Any], list[Callable[[], Awaitable[None]]]]:
    """Server interceptors (tracing, when on) and what to run at stop to flush them."""
    if not config.tracing:
        return [], []
    from sessiond.telemetry.tracing import tracing_interceptor

    tracer, close = tracing_interceptor(config)
    return [tracer], [close]


def call_layers(config: Config, prometheus: CollectorRegistry) -> list[Layer]:
    """Outermost first, inside any interceptor: request id + access log + metrics, auth."""
    layers = [observability_layer(GrpcMetrics(prometheus))]
    tokens = TokenTable(config.auth.tokens)
    if tokens:
        layers.append(auth_layer(tokens))
    return layers


@dataclass(frozen=True, slots=True)
class GrpcServer:
    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    closers: list[Callable[[], Awaitable[None]]]
    """Run last at stop (flushing traces)."""


def build_grpc_server(
    config: Config, services: CoreServices, prometheus: CollectorRegistry
) -> GrpcServer:
    """The server with every service registered and its port bound (not started)."""
    chain, closers = interceptors(config)
    server = grpc.aio.server(
        interceptors=chain,
        options=channel_options(config),
        maximum_concurrent_rpcs=config.transport.max_concurrent_rpcs or None,
    )
    health_servicer = register_services(server, services, call_layers(config, prometheus))
    port = bind(server, config)
    return GrpcServer(server, port, health_servicer, closers)


def start_background(config: Config, core: Core) -> list[asyncio.Task[None]]:
    """The periodic maintenance the config asks for, each in a task of its own."""
    tasks = []
    if core.lease_keeper is not None:
        tasks.append(asyncio.create_task(core.lease_keeper.run(), name="run-leases"))
    if config.cleanup_interval_s:
        policy = cleanup_policy(config)
        sweep = sweep_periodically(core.retention, policy, config.cleanup_interval_s)
        tasks.append(asyncio.create_task(sweep, name="cleanup-sweep"))
    if config.event_retention_s:
        retention_ms = int(config.event_retention_s * 1000)
        interval_s = min(60.0, max(0.05, config.event_retention_s / 10))
        prune = prune_events_periodically(core.committer.store, retention_ms, interval_s)
        tasks.append(asyncio.create_task(prune, name="event-retention"))
    return tasks


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    backends: Backends
    health: health.aio.HealthServicer
    executor: RunExecutor
    background: list[asyncio.Task[None]] = field(default_factory=list)
    metrics: MetricsEndpoint | None = None
    """The Prometheus endpoint, when `metrics_port` is set."""
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """Run last at stop (flushing traces)."""

    @property
    def store(self) -> Store:
        return self.backends.store

    @property
    def bus(self) -> EventBus:
        return self.backends.bus

    @property
    def metrics_port(self) -> int | None:
        return self.metrics.port if self.metrics is not None else None

    async def drain(self, delay_s: float, skip: asyncio.Event | None = None) -> None:
        """Reports NOT_SERVING and keeps serving for `delay_s` (or until `skip` is set),
        so load balancers and meshes take this replica out before it stops."""
        await self.health.enter_graceful_shutdown()
        if delay_s > 0:
            log.info("server.draining", drain_ms=round(delay_s * 1000))
            waiter = asyncio.ensure_future((skip or asyncio.Event()).wait())
            await asyncio.wait({waiter}, timeout=delay_s)
            waiter.cancel()

    async def stop(self, grace: float | None = None) -> None:
        await self.health.enter_graceful_shutdown()
        for task in self.background:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        # Runs in flight end as `shutdown` with their partial replies saved.
        await self.executor.stop_all(StopReason.SHUTDOWN)
        # Open streams end with UNAVAILABLE so clients resume elsewhere by cursor.
        await self.bus.end_subscriptions()
        await self.server.stop(grace)
        # A Send still in flight during the grace period may have started a run; its end
        # still reaches the other replicas' streams (the bus closes after it).
        await self.executor.stop_all(StopReason.SHUTDOWN)
        await self.bus.close()
        await self.executor.close()
        await self.backends.agents.close()
        await self.store.close()
        if self.metrics is not None:
            # Stopping the HTTP thread waits for its poll loop: keep that off the event loop.
            await asyncio.to_thread(self.metrics.close)
        for close in self.closers:
            await close()


def check_serving_config(config: Config) -> None:
    """Refuses configurations that must not serve (before anything is opened)."""
    problem = exposure_problem(config)
    if problem:
        raise ConfigError(problem)
    server_credentials(config.tls)  # unreadable TLS files fail here, not after start


async def start_server(config: Config) -> RunningServer:
    check_serving_config(config)
    backends = await open_backends(config)
    try:
        prometheus = CollectorRegistry(auto_describe=True)
        core = build_core(config, backends, RunMetrics(prometheus, usage_labels(config)))
        subscribers_gauge(prometheus, backends.bus.subscriber_count)
        grpc_server = build_grpc_server(config, core.services, prometheus)
        metrics = None
        if config.metrics_port is not None:
            host = config.metrics_host or config.host
            metrics = serve_metrics(prometheus, host, config.metrics_port)
    except BaseException as exc:
        await backends.close()
        if isinstance(exc, OSError | RuntimeError):  # a port taken, say
            raise OSError(str(exc)) from exc
        raise
    recovered = await recover(core.committer, core.executor)
    if recovered:
        log.warning("runs.recovered", closed=recovered)
    await grpc_server.server.start()
    await set_serving(grpc_server.health)
    log.info(
        "server.started",
        host=config.host,
        port=grpc_server.port,
        store=type(backends.store).__name__,
        db=describe_store(config),
        bus=type(backends.bus).__name__,
        tls=config.tls.enabled,
        mtls=config.tls.client_ca_file is not None,
        auth=bool(config.auth.tokens),
        metrics_port=metrics.port if metrics else None,
    )
    return RunningServer(
        grpc_server.server,
        grpc_server.port,
        backends,
        grpc_server.health,
        core.executor,
        background=start_background(config, core),
        metrics=metrics,
        closers=grpc_server.closers,
    )


async def serve(config: Config) -> None:
    """Runs until SIGTERM/SIGINT, then drains and shuts down gracefully.

    A second signal during the drain delay cuts it short (an impatient operator)."""
    running = await start_server(config)
    signals = 0
    stop, hurry = asyncio.Event(), asyncio.Event()

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        (stop if signals == 1 else hurry).set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    await stop.wait()
    log.info("server.stopping", drain_ms=config.drain_ms, grace_s=config.grace_s)
    await running.drain(config.drain_ms / 1000, hurry)
    await running.stop(config.grace_s)
    log.info("server.stopped")
