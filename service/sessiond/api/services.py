"""The gRPC services of a server: sessiond's two, health and reflection, registered with
the per-call layers around every handler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from sessiond.api import reflection
from sessiond.api.chat_servicer import ChatServicer
from sessiond.api.maintenance import Maintenance
from sessiond.api.registration import LayeredRegistration
from sessiond.api.session_servicer import SessionServicer
from sessiond.api.wrapping import Layer
from sessiond.core.runs.queries import RunQueries
from sessiond.core.runs.service import RunService
from sessiond.core.sessions.manager import SessionManager
from sessiond.core.sessions.queries import SessionQueries
from sessiond.core.streams.chat import ChatStreams
from sessiond.core.streams.sessions import SessionFeed
from sessiond.core.usage import UsageQueries
from sessiond.v1 import (
    chat_service_pb2,
    chat_service_pb2_grpc,
    session_service_pb2,
    session_service_pb2_grpc,
)

SERVICE_NAMES = (
    session_service_pb2.DESCRIPTOR.services_by_name["SessionService"].full_name,
    chat_service_pb2.DESCRIPTOR.services_by_name["ChatService"].full_name,
)


@dataclass(frozen=True, slots=True)
class CoreServices:
    """What the servicers delegate to."""

    manager: SessionManager
    session_queries: SessionQueries
    runs: RunService
    run_queries: RunQueries
    chat_streams: ChatStreams
    session_feed: SessionFeed
    maintenance: Maintenance
    usage: UsageQueries


def register_services(
    server: grpc.aio.Server, core: CoreServices, layers: list[Layer]
) -> health.aio.HealthServicer:
    """Adds every service to `server`; returns the health servicer (NOT_SERVING until
    `set_serving`)."""
    # The generated `add_*_to_server` accept anything with the server's two add methods.
    registration: Any = LayeredRegistration(server, layers)
    session_service_pb2_grpc.add_SessionServiceServicer_to_server(
        SessionServicer(
            core.manager,
            core.session_queries,
            core.runs,
            core.session_feed,
            core.maintenance,
            core.usage,
        ),
        registration,
    )
    chat_service_pb2_grpc.add_ChatServiceServicer_to_server(
        ChatServicer(core.manager, core.runs, core.run_queries, core.chat_streams), registration
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, registration)
    reflection.enable(registration, (*SERVICE_NAMES, health.SERVICE_NAME))
    return health_servicer


async def set_serving(health_servicer: health.aio.HealthServicer) -> None:
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
