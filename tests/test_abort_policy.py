"""Ownership of runs: a run records the token that started it (`started_by`); with
`abort_policy = "owner"` only that token (or an admin token) may Abort or Steer it, others
get PERMISSION_DENIED `NOT_RUN_OWNER`. A tenant's policy overrides its agents'."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import grpc
import pytest
from conftest import ServerHandle
from helpers import expect_error
from sessiond.config import AgentConfig, Config, TenantConfig
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import resources_pb2
from tenant_helpers import As, with_tokens

LONG = "x" * 400


def slow(config: Config) -> Config:
    return replace(config, echo_chunk_chars=1, echo_delay_ms=20)


@pytest.fixture
def config(config: Config) -> Config:
    return with_tokens(slow(config), acme=TenantConfig(abort_policy="owner"))


@pytest.fixture
async def channel(server: ServerHandle) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(server.target) as chan:
        yield chan


async def test_only_the_owner_or_an_admin_stops_a_run(channel: grpc.aio.Channel) -> None:
    app, web, ops = (As.of(channel, who) for who in ("acme-writer", "acme-web", "acme"))
    await app.create("a")
    run_id = await app.start("a", LONG)
    run = await web.chat.GetRun(cpb.GetRunRequest(run_id=run_id))
    assert run.run.started_by == "acme-app"
    for call in (
        web.chat.Abort(cpb.AbortRequest(session_key="a")),
        web.chat.Abort(cpb.AbortRequest(run_id=run_id)),
        web.chat.Steer(cpb.SteerRequest(session_key="a", text="mine now")),
    ):
        await expect_error(call, grpc.StatusCode.PERMISSION_DENIED, "NOT_RUN_OWNER")
    still = await web.chat.GetRun(cpb.GetRunRequest(run_id=run_id))
    assert still.run.status == resources_pb2.RUN_STATUS_RUNNING
    # The owner may; so may an admin token of the tenant.
    steered = await app.chat.Steer(cpb.SteerRequest(session_key="a", text=LONG))
    assert steered.interrupted_run_id == run_id
    stopped = await ops.chat.Abort(cpb.AbortRequest(session_key="a"))
    assert stopped.aborted_run_id == steered.run_id


async def test_clear_queue_cancels_only_the_callers_own_runs(channel: grpc.aio.Channel) -> None:
    app, web = As.of(channel, "acme-writer"), As.of(channel, "acme-web")
    await app.create("a")
    running = await app.start("a", LONG)
    apps = await app.start("a", "queued by the app")
    webs = await web.start("a", "queued by the web")
    cleared = await web.chat.Abort(cpb.AbortRequest(run_id=webs, clear_queue=True))
    assert (cleared.aborted_run_id, list(cleared.cancelled_run_ids)) == (webs, [])
    queued = await web.chat.ListRuns(
        cpb.ListRunsRequest(session_key="a", status=resources_pb2.RUN_STATUS_QUEUED)
    )
    assert [r.run_id for r in queued.runs] == [apps]
    await app.chat.Abort(cpb.AbortRequest(run_id=running, clear_queue=True))


@pytest.mark.parametrize(
    ("agent_policy", "tenant_policy", "denied"),
    [("owner", "", True), ("owner", "tenant", False), ("tenant", "owner", True)],
)
async def test_a_tenants_policy_overrides_its_agents(
    config: Config, agent_policy: str, tenant_policy: str, denied: bool
) -> None:
    config = replace(
        config,
        agents={"main": AgentConfig(abort_policy=agent_policy)},
        tenants={"acme": TenantConfig(abort_policy=tenant_policy)},
    )
    handle = ServerHandle(config)
    await handle.start()
    try:
        async with grpc.aio.insecure_channel(handle.target) as channel:
            app, web = As.of(channel, "acme-writer"), As.of(channel, "acme-web")
            await app.create("a")
            run_id = await app.start("a", LONG)
            abort = web.chat.Abort(cpb.AbortRequest(run_id=run_id))
            if denied:
                await expect_error(abort, grpc.StatusCode.PERMISSION_DENIED, "NOT_RUN_OWNER")
                await app.chat.Abort(cpb.AbortRequest(run_id=run_id))
            else:
                assert (await abort).aborted_run_id == run_id
    finally:
        await handle.stop()
