"""Quotas hold across replicas: two servers on one PostgreSQL database, a tenant's calls
spread over both at once, and no more sessions or runs are admitted than its quota."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from conftest import ServerHandle
from sessiond.config import Config, TenantConfig
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import session_service_pb2 as spb
from tenant_helpers import As, with_tokens


@pytest.fixture
async def replicas(tmp_path: Path, postgres_url: str) -> AsyncIterator[list[ServerHandle]]:
    base = Config(
        host="127.0.0.1", port=0, db_path=tmp_path / "unused.db", database_url=postgres_url
    )
    config = with_tokens(base, acme=TenantConfig(max_sessions=4, max_runs_per_minute=3))
    handles = [ServerHandle(config), ServerHandle(config)]
    for handle in handles:
        await handle.start()
    try:
        yield handles
    finally:
        for handle in handles:
            await handle.stop()


async def _outcomes(calls: list[object]) -> list[grpc.StatusCode]:
    results = await asyncio.gather(*calls, return_exceptions=True)  # type: ignore[call-overload]
    codes = []
    for result in results:
        if isinstance(result, grpc.aio.AioRpcError):
            codes.append(result.code())
        elif isinstance(result, BaseException):
            raise result
        else:
            codes.append(grpc.StatusCode.OK)
    return codes


async def test_quotas_hold_across_two_replicas(replicas: list[ServerHandle]) -> None:
    async with (
        grpc.aio.insecure_channel(replicas[0].target) as one,
        grpc.aio.insecure_channel(replicas[1].target) as two,
    ):
        sides = [As.of(one, "acme"), As.of(two, "acme")]
        creates = [
            sides[n % 2].sessions.CreateSession(spb.CreateSessionRequest(key=f"s{n}"))
            for n in range(10)
        ]
        codes = await _outcomes(creates)
        assert codes.count(grpc.StatusCode.OK) == 4, codes
        assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 6, codes
        listed = await sides[1].sessions.ListSessions(spb.ListSessionsRequest())
        keys = [s.key for s in listed.sessions]
        sends = [
            sides[n % 2].chat.Send(cpb.SendRequest(session_key=keys[n % 4], text=f"m{n}"))
            for n in range(8)
        ]
        codes = await _outcomes(sends)
        assert codes.count(grpc.StatusCode.OK) == 3, codes
        assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 5, codes
