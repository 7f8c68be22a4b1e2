"""The composition root: the one place concrete backends are chosen, and the server's
lifecycle. Everything is built by constructors, in dependency order:

1. `open_backends`: the store, the bus and the agents' backends;
2. `build_core`: the core services over them;
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
from sessiond.agents.base import AgentBackend
from sessiond.agents.echo import EchoBackend
from sessiond.agents.openai_backend import OpenAIBackend
from sessiond.api.auth import TokenTable, auth_layer
from sessiond.api.maintenance import Maintenance
from sessiond.api.observability import observability_layer
from sessiond.api.services import CoreServices, register_services, set_serving
from sessiond.api.wrapping import Layer
from sessiond.bus.base import EventBus
from sessiond.bus.memory import MemoryBus
from sessiond.bus.nats import NatsBus
from sessiond.config import (
    MEMORY_URL,
    POSTGRES_URL_PREFIXES,
    AgentConfig,
    Config,
    ConfigError,
    exposure_problem,
    redacted_url,
    unsupported_store_url,
)
from sessiond.core.committer import Committer
from sessiond.core.maintenance.checkpoints import Checkpoints
from sessiond.core.maintenance.compaction import AutoCompaction, Compaction, Compactor
from sessiond.core.maintenance.retention import (
    Retention,
    prune_events_periodically,
    sweep_periodically,
)
from sessiond.core.rules import AgentRules, SessionRules
from sessiond.core.runs.agents import AgentDirectory, AgentSpec, Price
from sessiond.core.runs.budgets import Budgets
from sessiond.core.runs.executor import RunExecutor, RunSettings
from sessiond.core.runs.lease_keeper import LeaseKeeper
from sessiond.core.runs.observe import RunObserver
from sessiond.core.runs.ownership import Leases, SoleOwner
from sessiond.core.runs.queries import RunQueries
from sessiond.core.runs.recovery import recover
from sessiond.core.runs.registry import RunRegistry
from sessiond.core.runs.service import RunService
from sessiond.core.sessions.manager import SessionManager
from sessiond.core.sessions.plugins import PluginState
from sessiond.core.sessions.queries import SessionQueries
from sessiond.core.streams.chat import ChatStreams
from sessiond.core.streams.sessions import SessionFeed
from sessiond.core.usage import UsageQueries
from sessiond.domain.models import StopReason
from sessiond.policies import cleanup_policy, tenant_limits, usage_labels
from sessiond.store.base import Store
from sessiond.store.memory import MemoryStore
from sessiond.store.sqlite import SqliteStore
from sessiond.telemetry.metrics import (
    GrpcMetrics,
    MetricsEndpoint,
    RunMetrics,
    serve_metrics,
    subscribers_gauge,
)
from sessiond.transport import bind, channel_options, server_credentials

log = structlog.get_logger(__name__)


def session_rules(config: Config, directory: AgentDirectory) -> SessionRules:
    """What core checks sessions against; the models are what each backend declares."""
    rules = {
        agent_id: AgentRules(
            model=agent.model,
            model_provider=agent.backend,
            models=directory.get(agent_id).backend.models,
            abort_policy=agent.abort_policy,
        )
        for agent_id, agent in config.agents.items()
    }
    return SessionRules(default_agent=config.default_agent, agents=rules)


def agent_backend(config: Config, agent: AgentConfig) -> AgentBackend:
    if agent.backend == "openai":
        return OpenAIBackend(
            base_url=agent.base_url,
            api_key=agent.api_key,
            model=agent.model,
            timeout_s=agent.request_timeout_s,
            models=agent.allowed_models,
            reasoning_effort=agent.reasoning_effort,
        )
    return EchoBackend(config.echo_chunk_chars, config.echo_delay_ms)


def agent_spec(config: Config, agent: AgentConfig) -> AgentSpec:
    return AgentSpec(
        backend=agent_backend(config, agent),
        model=agent.model,
        system_prompt=agent.system_prompt,
        context_tokens=agent.context_tokens,
        price=Price(agent.price_input_per_mtok, agent.price_output_per_mtok),
        prices={
            model: Price(price.input_per_mtok, price.output_per_mtok)
            for model, price in agent.prices.items()
        },
    )


def agent_directory(config: Config) -> AgentDirectory:
    return AgentDirectory(
        {agent_id: agent_spec(config, agent) for agent_id, agent in config.agents.items()}
    )


@dataclass(frozen=True, slots=True)
class Backends:
    """The concrete store, bus and agents of this server."""

    store: Store
    bus: EventBus
    agents: AgentDirectory
    shared: bool = False
    """Other processes (replicas) write the store too: runs are leased."""


def store_is_shared(config: Config) -> bool:
    """Whether other replicas may write the configured store (PostgreSQL)."""
    return config.database_url.startswith(POSTGRES_URL_PREFIXES)


def store_of(config: Config) -> Store:
    """The store `database_url` names (not opened yet): SQLite at `db_path` when unset,
    PostgreSQL for a `postgresql://` URL (several replicas), `memory:` in memory."""
    url, readers = config.database_url, config.store_readers
    if not url:
        return SqliteStore(config.db_path, synchronous=config.sqlite_synchronous, readers=readers)
    if url == MEMORY_URL:
        return MemoryStore()
    if store_is_shared(config):
        # Imported here: a server on SQLite does not load psycopg at start-up.
        from sessiond.store.postgres import PostgresStore

        return PostgresStore(url, readers=readers)
    raise ConfigError(unsupported_store_url(url) or "database_url: unsupported store URL")


def describe_store(config: Config) -> str:
    """Where the store is, for logs (without a password)."""
    return redacted_url(config.database_url) if config.database_url else str(config.db_path)


async def open_bus(config: Config) -> EventBus:
    """The NATS bus when `bus.nats_url` is set (several replicas), else the in-process bus."""
    if not config.bus.nats_url:
        return MemoryBus()
    return await NatsBus.connect(config.bus.nats_url, config.bus.subject_prefix)


async def open_backends(config: Config) -> Backends:
    store = store_of(config)
    await store.open()
    try:
        bus = await open_bus(config)
    except BaseException:
        await store.close()
        raise
    return Backends(store, bus, agent_directory(config), shared=store_is_shared(config))


@dataclass(frozen=True, slots=True)
class Core:
    """The core services and what the server's lifecycle needs of them."""

    services: CoreServices
    committer: Committer
    executor: RunExecutor
    retention: Retention
    lease_keeper: LeaseKeeper | None
    """Renews and reaps run leases, with replicas sharing the store."""


def run_ownership(config: Config, backends: Backends) -> SoleOwner | Leases:
    return Leases(config.run_lease_ms) if backends.shared else SoleOwner()


def build_core(config: Config, backends: Backends, observer: RunObserver) -> Core:
    rules = session_rules(config, backends.agents)
    limits = tenant_limits(config)
    committer = Committer(backends.store, backends.bus)
    registry = RunRegistry()
    ownership = run_ownership(config, backends)
    settings = RunSettings(
        delta_interval_s=config.delta_interval_ms / 1000,
        silent_token=config.silent_token,
        default_timeout_ms=config.run_timeout_ms,
    )
    compaction = Compaction(committer, backends.agents)
    auto = AutoCompaction(compaction, config.auto_compact_tokens)
    executor = RunExecutor(
        committer,
        backends.agents,
        registry,
        settings,
        ownership=ownership,
        observer=observer,
        after_run=auto.after_run if config.auto_compact_tokens else None,
        budgets=Budgets(limits),
    )
    runs = RunService(
        committer,
        rules,
        executor,
        registry,
        max_queued_runs=config.max_queued_runs,
        stop_wait_s=2 * config.run_lease_ms / 1000,
        limits=limits,
    )
    retention = Retention(committer, rules)
    maintenance = Maintenance(
        compactor=Compactor(compaction, runs, rules),
        checkpoints=Checkpoints(committer, runs, rules, limits),
        retention=retention,
        plugins=PluginState(committer, rules),
    )
    services = CoreServices(
        manager=SessionManager(committer, rules, runs, limits),
        session_queries=SessionQueries(backends.store, rules),
        runs=runs,
        run_queries=RunQueries(committer, rules),
        chat_streams=ChatStreams(
            committer,
            rules,
            registry,
            config.heartbeat_ms / 1000,
            config.subscriber_max_pending,
            ownership=ownership,
        ),
        session_feed=SessionFeed(committer, rules),
        maintenance=maintenance,
        usage=UsageQueries(backends.store),
    )
    keeper = None
    if isinstance(ownership, Leases):
        renew_s = config.run_lease_renew_ms / 1000
        keeper = LeaseKeeper(committer, executor, ownership, registry, renew_s)
    return Core(services, committer, executor, retention, keeper)


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
        await self.bus.close()
        await self.server.stop(grace)
        # A Send still in flight during the grace period may have started a run.
        await self.executor.stop_all(StopReason.SHUTDOWN)
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
    prometheus = CollectorRegistry(auto_describe=True)
    core = build_core(config, backends, RunMetrics(prometheus, usage_labels(config)))
    subscribers_gauge(prometheus, backends.bus.subscriber_count)
    try:
        grpc_server = build_grpc_server(config, core.services, prometheus)
        metrics = None
        if config.metrics_port is not None:
            host = config.metrics_host or config.host
            metrics = serve_metrics(prometheus, host, config.metrics_port)
    except (OSError, RuntimeError) as exc:
        await backends.agents.close()
        await backends.bus.close()
        await backends.store.close()
        raise OSError(str(exc)) from exc
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
        bus="nats" if config.bus.nats_url else "memory",
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
