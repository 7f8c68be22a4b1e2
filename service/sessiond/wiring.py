"""Building a server's parts by constructors, in dependency order: the one place concrete
backends are chosen (`open_backends`: store, bus, agents) and the core services are
assembled over them (`build_core`). The server's lifecycle is `sessiond.server`'s.
"""

from dataclasses import dataclass

import structlog
from sessiond.agents.base import AgentBackend
from sessiond.agents.echo import EchoBackend
from sessiond.agents.openai_backend import OpenAIBackend
from sessiond.api.maintenance import Maintenance
from sessiond.api.services import CoreServices
from sessiond.bus.base import EventBus
from sessiond.bus.memory import MemoryBus
from sessiond.config import AgentConfig, Config, ConfigError
from sessiond.config_checks import (
    MEMORY_URL,
    POSTGRES_URL_PREFIXES,
    redacted_url,
    unsupported_store_url,
)
from sessiond.core.committer import Committer
from sessiond.core.maintenance.checkpoints import Checkpoints
from sessiond.core.maintenance.compaction import AutoCompaction, Compaction, Compactor
from sessiond.core.maintenance.retention import (
    Retention,
)
from sessiond.core.rules import AgentRules, SessionRules
from sessiond.core.runs.agents import AgentDirectory, AgentSpec, Price
from sessiond.core.runs.budgets import Budgets
from sessiond.core.runs.executor import RunExecutor, RunSettings
from sessiond.core.runs.lease_keeper import LeaseKeeper
from sessiond.core.runs.observe import RunObserver
from sessiond.core.runs.ownership import Leases, SoleOwner
from sessiond.core.runs.queries import RunQueries
from sessiond.core.runs.registry import RunRegistry
from sessiond.core.runs.service import RunService
from sessiond.core.sessions.manager import SessionManager
from sessiond.core.sessions.plugins import PluginState
from sessiond.core.sessions.queries import SessionQueries
from sessiond.core.streams.chat import ChatStreams
from sessiond.core.streams.sessions import SessionFeed
from sessiond.core.usage import UsageQueries
from sessiond.policies import tenant_limits
from sessiond.store.base import Store
from sessiond.store.memory import MemoryStore
from sessiond.store.sqlite import SqliteStore

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

    async def close(self) -> None:
        """Closes them (a server that did not start; a running one has its own order)."""
        await self.agents.close()
        await self.bus.close()
        await self.store.close()


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
    # Imported here, as the PostgreSQL store is: a single server does not load nats-py.
    from sessiond.bus.nats import NatsBus

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
