"""Tenant quotas: sessions, runs per minute, concurrent runs, queued runs. Past one, a call
is RESOURCE_EXHAUSTED `QUOTA_EXCEEDED` naming the quota and its limit, with RetryInfo
where waiting helps; another tenant is not held back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import grpc
import pytest
from conftest import ServerHandle
from helpers import error_info, expect_error
from sessiond.config import Config, TenantConfig
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import session_service_pb2 as spb
from tenant_helpers import As, retry_delay_ms, with_tokens

LONG = "x" * 400
"""A message whose echo takes seconds (one character per delta, see `config`)."""


@pytest.fixture
def config(config: Config) -> Config:
    tenants = {
        "acme": TenantConfig(
            max_sessions=3, max_runs_per_minute=4, max_concurrent_runs=1, max_queued_runs=1
        )
    }
    slow = replace(config, echo_chunk_chars=1, echo_delay_ms=20)
    return with_tokens(slow, **tenants)


@pytest.fixture
async def channel(server: ServerHandle) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(server.target) as chan:
        yield chan


async def exceeded(call: object, quota: str, limit: int) -> grpc.aio.AioRpcError:
    err = await expect_error(call, grpc.StatusCode.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED")  # type: ignore[arg-type]
    assert error_info(err)[1] == {"quota": quota, "limit": str(limit), "tenant": "acme"}
    return err


async def test_max_sessions(channel: grpc.aio.Channel) -> None:
    acme, beta = As.of(channel, "acme"), As.of(channel, "beta")
    for name in ("a", "b", "c"):
        await acme.create(name)
    err = await exceeded(
        acme.sessions.CreateSession(spb.CreateSessionRequest(key="d")), "max_sessions", 3
    )
    assert retry_delay_ms(err) is None  # waiting does not free a session
    again = await acme.sessions.CreateSession(spb.CreateSessionRequest(key="a"))
    assert not again.created  # an existing one is no new session
    for name in ("a", "b", "c", "d"):
        await beta.create(name)
    # Deleting one frees its place.
    await acme.sessions.DeleteSession(spb.DeleteSessionRequest(key="c"))
    await acme.create("d")


async def test_max_runs_per_minute_says_when_to_retry(channel: grpc.aio.Channel) -> None:
    acme, beta = As.of(channel, "acme"), As.of(channel, "beta")
    await acme.create("a")
    for n in range(4):
        await acme.send_and_wait("a", f"short {n}")
    err = await exceeded(
        acme.chat.Send(cpb.SendRequest(session_key="a", text="fifth")), "max_runs_per_minute", 4
    )
    delay = retry_delay_ms(err)
    assert delay is not None
    assert 0 < delay <= 60_000
    # Nothing was written for the refused Send.
    runs = await acme.chat.ListRuns(cpb.ListRunsRequest(session_key="a"))
    assert len(runs.runs) == 4
    await beta.create("a")
    await beta.send_and_wait("a", "beta is not counted with acme")


async def test_max_concurrent_runs_refuses_a_start_not_a_queued_send(
    channel: grpc.aio.Channel,
) -> None:
    acme = As.of(channel, "acme")
    await acme.create("a")
    await acme.create("b")
    running = await acme.start("a", LONG)
    err = await exceeded(
        acme.chat.Send(cpb.SendRequest(session_key="b", text="hi")), "max_concurrent_runs", 1
    )
    assert retry_delay_ms(err) == 1000
    queued = await acme.chat.Send(cpb.SendRequest(session_key="a", text="behind"))
    assert queued.status == cpb.SEND_STATUS_QUEUED
    await acme.chat.Abort(cpb.AbortRequest(run_id=running))
    await acme.chat.Abort(cpb.AbortRequest(session_key="a", clear_queue=True))
    await acme.send_and_wait("b", "now there is room")


async def test_max_queued_runs_counts_every_session_of_the_tenant(
    channel: grpc.aio.Channel,
) -> None:
    acme = As.of(channel, "acme")
    await acme.create("a")
    running = await acme.start("a", LONG)
    queued = await acme.chat.Send(cpb.SendRequest(session_key="a", text="one waits"))
    assert queued.status == cpb.SEND_STATUS_QUEUED
    err = await exceeded(
        acme.chat.Send(cpb.SendRequest(session_key="a", text="two wait")), "max_queued_runs", 1
    )
    assert retry_delay_ms(err) is None
    await acme.chat.Abort(cpb.AbortRequest(run_id=running, clear_queue=True))
