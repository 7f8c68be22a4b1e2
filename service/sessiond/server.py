"""Wiring (the one place concrete backends are chosen) and the server lifecycle."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from sessiond.agents.base import AgentBackend
from sessiond.agents.echo import EchoBackend
from sessiond.agents.openai_backend import OpenAIBackend
from sessiond.api import reflection
from sessiond.api.chat_servicer import ChatServicer
from sessiond.api.maintenance import Maintenance
from sessiond.api.session_servicer import SessionServicer
from sessiond.bus.memory import MemoryBus
from sessiond.config import AgentConfig, Config
from sessiond.core.chatfeed import ChatFeed
from sessiond.core.checkpoints import Checkpoints
from sessiond.core.compaction import Compactor
from sessiond.core.directory import AgentDirectory, AgentSpec
from sessiond.core.events import EventLog
from sessiond.core.executor import RunExecutor, RunSettings
from sessiond.core.plugins import PluginState
from sessiond.core.queries import SessionQueries
from sessiond.core.registry import RunRegistry
from sessiond.core.retention import Retention
from sessiond.core.rules import AgentRules, SessionRules
from sessiond.core.runs import RunService
from sessiond.core.sessions import SessionManager
from sessiond.store.sqlite import SqliteStore
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


def channel_options(config: Config) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", config.transport.max_receive_message_bytes),
        ("grpc.max_send_message_length", config.transport.max_send_message_bytes),
        ("grpc.so_reuseport", 0),
    ]


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    store: SqliteStore
    bus: MemoryBus
    health: health.aio.HealthServicer
    executor: RunExecutor
    agents: AgentDirectory

    async def stop(self, grace: float | None = None) -> None:
        await self.health.enter_graceful_shutdown()
        await self.executor.stop_all("shutdown")
        # Open streams end with UNAVAILABLE so clients resume elsewhere by cursor.
        await self.bus.close()
        await self.server.stop(grace)
        await self.agents.close()
        await self.store.close()


async def start_server(config: Config) -> RunningServer:
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
    feed = ChatFeed(
        log_, rules, registry, config.heartbeat_ms / 1000, config.subscriber_max_pending
    )

    maintenance = Maintenance(
        compactor=Compactor(log_, runs, agents),
        checkpoints=Checkpoints(log_, runs),
        retention=Retention(log_, rules),
        plugins=PluginState(log_, rules),
    )

    server = grpc.aio.server(options=channel_options(config))
    session_service_pb2_grpc.add_SessionServiceServicer_to_server(
        SessionServicer(manager, SessionQueries(store, rules), runs, maintenance), server
    )
    chat_service_pb2_grpc.add_ChatServiceServicer_to_server(
        ChatServicer(manager, runs, feed), server
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable(server, (*SERVICE_NAMES, health.SERVICE_NAME))

    port = server.add_insecure_port(f"{config.host}:{config.port}")
    if port == 0:
        await store.close()
        raise OSError(f"cannot bind {config.host}:{config.port}")
    recovered = await runs.recover()
    if recovered:
        log.warning("runs.recovered", closed=recovered)
    await server.start()
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("server.started", host=config.host, port=port, db=str(config.db_path))
    return RunningServer(server, port, store, bus, health_servicer, executor, agents)


async def serve(config: Config) -> None:
    """Runs until SIGTERM/SIGINT, then shuts down gracefully."""
    running = await start_server(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("server.stopping", grace_s=config.grace_s)
    await running.stop(config.grace_s)
    log.info("server.stopped")
