"""Wiring (the one place concrete backends are chosen) and the server lifecycle."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from prometheus_client import CollectorRegistry
from sessiond.agents.base import AgentBackend
from sessiond.agents.echo import EchoBackend
from sessiond.agents.openai_backend import OpenAIBackend
from sessiond.api import reflection
from sessiond.api.auth import TokenTable, auth_layer
from sessiond.api.chat_servicer import ChatServicer
from sessiond.api.maintenance import Maintenance
from sessiond.api.observability import observability_layer
from sessiond.api.registration import LayeredRegistration
from sessiond.api.session_servicer import SessionServicer
from sessiond.api.wrapping import Layer
from sessiond.bus.memory import MemoryBus
from sessiond.config import AgentConfig, Config, ConfigError, exposure_problem
from sessiond.core.chatfeed import ChatFeed
from sessiond.core.checkpoints import Checkpoints
from sessiond.core.compaction import AutoCompaction, Compactor
from sessiond.core.directory import AgentDirectory, AgentSpec
from sessiond.core.events import EventLog
from sessiond.core.executor import RunExecutor, RunSettings
from sessiond.core.plugins import PluginState
from sessiond.core.queries import SessionQueries
from sessiond.core.registry import RunRegistry
from sessiond.core.retention import (
    CleanupPolicy,
    Retention,
    prune_events_periodically,
    sweep_periodically,
)
from sessiond.core.rules import AgentRules, SessionRules
from sessiond.core.runs import RunService
from sessiond.core.sessions import SessionManager
from sessiond.store.sqlite import SqliteStore
from sessiond.telemetry.metrics import (
    GrpcMetrics,
    MetricsEndpoint,
    RunMetrics,
    serve_metrics,
    subscribers_gauge,
)
from sessiond.transport import bind, channel_options, server_credentials
from sessiond.v1 import (
    chat_service_pb2,
    chat_service_pb2_grpc,
    session_service_pb2,
    session_service_pb2_grpc,
)

log = structlog.get_logger(__name__)

SERVICE_NAMES = (
    session_service_pb2.DESCRIPTOR.services_by_name["SessionService"].full_name,
    chat_service_pb2.DESCRIPTOR.services_by_name["ChatService"].full_name,
)


def session_rules(config: Config) -> SessionRules:
    agents = {
        agent_id: AgentRules(
            model=agent.model, model_provider=agent.backend, allowed_models=agent.allowed_models
        )
        for agent_id, agent in config.agents.items()
    }
    return SessionRules(default_agent=config.default_agent, agents=agents)


def agent_backend(config: Config, agent: AgentConfig) -> AgentBackend:
    if agent.backend == "openai":
        return OpenAIBackend(
            base_url=agent.base_url,
            api_key=agent.api_key,
            model=agent.model,
            timeout_s=agent.request_timeout_s,
        )
    return EchoBackend(config.echo_chunk_chars, config.echo_delay_ms)


def agent_directory(config: Config) -> AgentDirectory:
    return AgentDirectory(
        {
            agent_id: AgentSpec(
                backend=agent_backend(config, agent),
                model=agent.model,
                system_prompt=agent.system_prompt,
                price_input_per_mtok=agent.price_input_per_mtok,
                price_output_per_mtok=agent.price_output_per_mtok,
            )
            for agent_id, agent in config.agents.items()
        }
    )


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    store: SqliteStore
    bus: MemoryBus
    health: health.aio.HealthServicer
    executor: RunExecutor
    agents: AgentDirectory
    background: list[asyncio.Task[None]] = field(default_factory=list)
    metrics: MetricsEndpoint | None = None
    """The Prometheus endpoint, when `metrics_port` is set."""
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """Run last at stop (flushing traces)."""

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
        # Runs in flight end as `shutdown` with their partial replies saved.
        await self.executor.stop_all("shutdown")
        # Open streams end with UNAVAILABLE so clients resume elsewhere by cursor.
        await self.bus.close()
        await self.server.stop(grace)
        # A Send still in flight during the grace period may have started a run.
        await self.executor.stop_all("shutdown")
        await self.agents.close()
        await self.store.close()
        if self.metrics is not None:
            # Stopping the HTTP thread waits for its poll loop: keep that off the event loop.
            await asyncio.to_thread(self.metrics.close)
        for close in self.closers:
            await close()


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


def check_serving_config(config: Config) -> None:
    """Refuses configurations that must not serve (before anything is opened)."""
    problem = exposure_problem(config)
    if problem:
        raise ConfigError(problem)
    server_credentials(config.tls)  # unreadable TLS files fail here, not after start


async def start_server(config: Config) -> RunningServer:
    check_serving_config(config)
    store = SqliteStore(config.db_path, synchronous=config.sqlite_synchronous)
    await store.open()
    bus = MemoryBus()
    rules = session_rules(config)
    log_ = EventLog(store, bus)
    manager = SessionManager(log_, rules)
    registry = RunRegistry()
    settings = RunSettings(
        delta_interval_s=config.delta_interval_ms / 1000,
        silent_token=config.silent_token,
        default_timeout_ms=config.run_timeout_ms,
    )
    agents = agent_directory(config)
    executor = RunExecutor(log_, agents, registry, settings)
    runs = RunService(log_, rules, executor, registry)
    manager.runs = runs
    feed = ChatFeed(
        log_, rules, registry, config.heartbeat_ms / 1000, config.subscriber_max_pending
    )

    compactor = Compactor(log_, runs, agents)
    if config.auto_compact_tokens:
        executor.after_run = AutoCompaction(compactor, config.auto_compact_tokens).after_run
    maintenance = Maintenance(
        compactor=compactor,
        checkpoints=Checkpoints(log_, runs),
        retention=Retention(log_, rules),
        plugins=PluginState(log_, rules),
    )

    prometheus = CollectorRegistry(auto_describe=True)
    executor.observer = RunMetrics(prometheus)
    subscribers_gauge(prometheus, bus.subscriber_count)
    chain, closers = interceptors(config)
    server = grpc.aio.server(
        interceptors=chain,
        options=channel_options(config),
        maximum_concurrent_rpcs=config.transport.max_concurrent_rpcs or None,
    )
    # The generated `add_*_to_server` accept anything with the server's two add methods.
    registration: Any = LayeredRegistration(server, call_layers(config, prometheus))
    session_service_pb2_grpc.add_SessionServiceServicer_to_server(
        SessionServicer(manager, SessionQueries(store, rules), runs, maintenance), registration
    )
    chat_service_pb2_grpc.add_ChatServiceServicer_to_server(
        ChatServicer(manager, runs, feed), registration
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, registration)
    reflection.enable(registration, (*SERVICE_NAMES, health.SERVICE_NAME))

    try:
        port = bind(server, config)
        metrics = None
        if config.metrics_port is not None:
            metrics = serve_metrics(
                prometheus, config.metrics_host or config.host, config.metrics_port
            )
    except (OSError, RuntimeError) as exc:
        await store.close()
        raise OSError(str(exc)) from exc
    recovered = await runs.recover()
    if recovered:
        log.warning("runs.recovered", closed=recovered)
    await server.start()
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info(
        "server.started",
        host=config.host,
        port=port,
        db=str(config.db_path),
        tls=config.tls.enabled,
        mtls=config.tls.client_ca_file is not None,
        auth=bool(config.auth.tokens),
        metrics_port=metrics.port if metrics else None,
    )
    running = RunningServer(
        server,
        port,
        store,
        bus,
        health_servicer,
        executor,
        agents,
        metrics=metrics,
        closers=closers,
    )
    if config.cleanup_interval_s:
        sweep = sweep_periodically(
            maintenance.retention, cleanup_policy(config), config.cleanup_interval_s
        )
        running.background.append(asyncio.create_task(sweep, name="cleanup-sweep"))
    if config.event_retention_s:
        retention_ms = int(config.event_retention_s * 1000)
        interval_s = min(60.0, max(0.05, config.event_retention_s / 10))
        prune = prune_events_periodically(log_, retention_ms, interval_s)
        running.background.append(asyncio.create_task(prune, name="event-retention"))
    return running


def cleanup_policy(config: Config) -> CleanupPolicy:
    return CleanupPolicy(
        max_age_ms=int(config.cleanup_max_age_s * 1000),
        max_count=config.cleanup_max_count,
        archive_max_age_ms=int(config.cleanup_archive_max_age_s * 1000),
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
