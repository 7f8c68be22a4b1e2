"""Tokens of two tenants (and an operator's across them) and a client per token, for the
tenant tests."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import grpc
from google.rpc import error_details_pb2
from helpers import rich_status
from sessiond.config import Config, TenantConfig, TokenConfig
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, resources_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

TOKENS: dict[str, TokenConfig] = {
    "acme": TokenConfig("acme-admin-token-0123456789", ("admin",), "acme-ops", tenant="acme"),
    "acme-writer": TokenConfig(
        "acme-writer-token-0123456789", ("write",), "acme-app", tenant="acme"
    ),
    "acme-web": TokenConfig("acme-web-token-0123456789", ("write",), "acme-web", tenant="acme"),
    "beta": TokenConfig("beta-admin-token-0123456789", ("admin",), "beta-ops", tenant="beta"),
    "default": TokenConfig("default-admin-token-0123456789", ("admin",), "default-ops"),
    "operator": TokenConfig(
        "operator-token-0123456789abcdef",
        ("admin",),
        "operator",
        tenant="ops",
        all_tenants=True,
    ),
}


def with_tokens(config: Config, **tenants: TenantConfig) -> Config:
    """`config` with every token of TOKENS, and `tenants` configured."""
    auth = replace(config.auth, tokens=tuple(TOKENS.values()))
    return replace(config, auth=auth, tenants={**config.tenants, **tenants})


def metadata(who: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[who].token}"),)


class _Bound:
    """A stub whose every method sends one token's metadata."""

    def __init__(self, stub: Any, meta: tuple[tuple[str, str], ...]) -> None:
        self._stub = stub
        self._meta = meta

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._stub, name)

        def call(request: Any, **kwargs: Any) -> Any:
            return method(request, metadata=self._meta, **kwargs)

        return call


@dataclass
class As:
    """The two services as one token's holder sees them."""

    sessions: Any
    chat: Any

    @classmethod
    def of(cls, channel: grpc.aio.Channel, who: str) -> As:
        meta = metadata(who)
        return cls(
            _Bound(session_service_pb2_grpc.SessionServiceStub(channel), meta),
            _Bound(chat_service_pb2_grpc.ChatServiceStub(channel), meta),
        )

    async def create(self, key: str, **fields: Any) -> resources_pb2.Session:
        reply = await self.sessions.CreateSession(spb.CreateSessionRequest(key=key, **fields))
        return reply.session  # type: ignore[no-any-return]

    async def send_and_wait(self, key: str, text: str, **fields: Any) -> resources_pb2.Run:
        sent = await self.chat.Send(cpb.SendRequest(session_key=key, text=text, **fields))
        done = await self.chat.WaitRun(cpb.WaitRunRequest(run_id=sent.run_id, timeout_ms=10_000))
        assert done.done, done
        return done.run  # type: ignore[no-any-return]

    async def start(self, key: str, text: str, **fields: Any) -> str:
        """Sends and returns the run id without waiting."""
        sent = await self.chat.Send(cpb.SendRequest(session_key=key, text=text, **fields))
        return sent.run_id  # type: ignore[no-any-return]


def retry_delay_ms(error: grpc.aio.AioRpcError) -> int | None:
    """The RetryInfo delay of a failed call, in milliseconds; None without one."""
    status = rich_status(error)
    for detail in status.details if status is not None else ():
        info = error_details_pb2.RetryInfo()
        if detail.Is(info.DESCRIPTOR):
            detail.Unpack(info)
            return int(info.retry_delay.ToMilliseconds())
    return None
