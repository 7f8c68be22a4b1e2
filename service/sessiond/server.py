"""Wiring (the one place concrete backends are chosen) and the server lifecycle."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from sessiond.api import reflection
from sessiond.api.chat_servicer import ChatServicer
from sessiond.api.session_servicer import SessionServicer
from sessiond.bus.memory import MemoryBus
from sessiond.config import Config
from sessiond.core.events import EventLog
from sessiond.core.queries import SessionQueries
from sessiond.core.rules import AgentRules, SessionRules
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


def channel_options(config: Config) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", config.max_receive_message_bytes),
        ("grpc.max_send_message_length", config.max_send_message_bytes),
        ("grpc.so_reuseport", 0),
    ]


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    store: SqliteStore
    bus: MemoryBus
    health: health.aio.HealthServicer

    async def stop(self, grace: float | None = None) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        await self.bus.close()
        await self.store.close()


async def start_server(config: Config) -> RunningServer:
    store = SqliteStore(config.db_path, synchronous=config.sqlite_synchronous)
    await store.open()
    bus = MemoryBus()
    rules = session_rules(config)
    manager = SessionManager(EventLog(store, bus), rules)

    server = grpc.aio.server(options=channel_options(config))
    session_service_pb2_grpc.add_SessionServiceServicer_to_server(
        SessionServicer(manager, SessionQueries(store, rules)), server
    )
    chat_service_pb2_grpc.add_ChatServiceServicer_to_server(ChatServicer(manager), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable(server, (*SERVICE_NAMES, health.SERVICE_NAME))

    port = server.add_insecure_port(f"{config.host}:{config.port}")
    if port == 0:
        await store.close()
        raise OSError(f"cannot bind {config.host}:{config.port}")
    await server.start()
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("server.started", host=config.host, port=port, db=str(config.db_path))
    return RunningServer(server, port, store, bus, health_servicer)


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
