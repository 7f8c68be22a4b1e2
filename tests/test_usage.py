"""GetUsage: the tenant's usage over a time range, grouped by tenant, agent, model and day;
and the tenant usage metrics, with bounded label sets."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import grpc
import pytest
from conftest import ServerHandle
from google.protobuf import timestamp_pb2
from helpers import expect_error, has_violation
from sessiond.config import AgentConfig, Config, TenantConfig
from sessiond.v1 import resources_pb2
from sessiond.v1 import session_service_pb2 as spb
from tenant_helpers import As, with_tokens

DAY_S = 86_400


@pytest.fixture
def config(config: Config) -> Config:
    agents = {
        "main": AgentConfig(model="m-main", price_input_per_mtok=1e6, price_output_per_mtok=1e6),
        "gpt": AgentConfig(model="m-gpt", allowed_models=("m-gpt", "m-big")),
    }
    configured = replace(config, agents=agents, echo_delay_ms=0, metrics_port=0)
    return with_tokens(configured, acme=TenantConfig())


@pytest.fixture
async def channel(server: ServerHandle) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(server.target) as chan:
        yield chan


def usage_of(
    by: list[int], start: int | None = None, end: int | None = None
) -> spb.GetUsageRequest:
    request = spb.GetUsageRequest(group_by=by)
    if start is not None:
        request.start_time.FromSeconds(start)
    if end is not None:
        request.end_time.FromSeconds(end)
    return request


def added(runs: list[resources_pb2.Run]) -> tuple[int, int, int, float]:
    return (
        sum(r.usage.input_tokens for r in runs),
        sum(r.usage.output_tokens for r in runs),
        sum(r.usage.total_tokens for r in runs),
        sum(r.usage.estimated_cost_usd for r in runs),
    )


def figures(row: spb.UsageRow) -> tuple[int, int, int, float]:
    u = row.usage
    return u.input_tokens, u.output_tokens, u.total_tokens, u.estimated_cost_usd


async def test_usage_is_grouped_by_agent_model_and_day(channel: grpc.aio.Channel) -> None:
    acme, beta = As.of(channel, "acme"), As.of(channel, "beta")
    await acme.create("agent:main:a")
    await acme.create("agent:gpt:b")
    await acme.create("agent:gpt:c", model="m-big")
    main_runs = [await acme.send_and_wait("agent:main:a", f"main {n}") for n in range(2)]
    gpt_run = await acme.send_and_wait("agent:gpt:b", "to gpt")
    big_run = await acme.send_and_wait("agent:gpt:c", "to the big model")
    await beta.create("a")
    await beta.send_and_wait("a", "beta's run is not acme's")

    totals = await acme.sessions.GetUsage(usage_of([]))
    [row] = totals.rows
    assert row.runs == 4
    assert figures(row) == pytest.approx(added([*main_runs, gpt_run, big_run]))
    assert figures(row)[3] > 0  # the main agent is priced

    by_agent = await acme.sessions.GetUsage(usage_of([spb.USAGE_GROUPING_AGENT]))
    assert [(r.agent_id, r.runs) for r in by_agent.rows] == [("gpt", 2), ("main", 2)]
    assert figures(by_agent.rows[1]) == pytest.approx(added(main_runs))

    by_model = await acme.sessions.GetUsage(
        usage_of([spb.USAGE_GROUPING_AGENT, spb.USAGE_GROUPING_MODEL])
    )
    assert [(r.agent_id, r.model, r.runs) for r in by_model.rows] == [
        ("gpt", "m-big", 1),
        ("gpt", "m-gpt", 1),
        ("main", "m-main", 2),
    ]

    by_day = await acme.sessions.GetUsage(
        usage_of([spb.USAGE_GROUPING_DAY, spb.USAGE_GROUPING_TENANT])
    )
    today = int(time.time()) // DAY_S * DAY_S
    assert [(r.day.seconds, r.tenant, r.runs) for r in by_day.rows] == [(today, "acme", 4)]
    # The default range is today (UTC), to the end of the current hour.
    assert by_day.start_time.seconds == today
    assert by_day.end_time.seconds % 3600 == 0
    assert by_day.end_time.seconds > time.time()


async def test_ranges_cover_whole_hours(channel: grpc.aio.Channel) -> None:
    acme = As.of(channel, "acme")
    await acme.create("a")
    await acme.send_and_wait("a", "one run")
    now = int(time.time())
    later = await acme.sessions.GetUsage(usage_of([], start=now + 7200, end=now + 9000))
    assert list(later.rows) == []
    assert later.start_time.seconds == (now + 7200) // 3600 * 3600
    earlier = await acme.sessions.GetUsage(usage_of([], start=now - 3 * DAY_S, end=now - DAY_S))
    assert list(earlier.rows) == []
    this_hour = await acme.sessions.GetUsage(usage_of([], start=now, end=now + 1))
    assert [r.runs for r in this_hour.rows] == [1]
    assert this_hour.start_time.seconds == now // 3600 * 3600
    assert this_hour.end_time.seconds == this_hour.start_time.seconds + 3600


async def test_bad_ranges_and_groupings_name_the_field(channel: grpc.aio.Channel) -> None:
    acme = As.of(channel, "acme")
    now = int(time.time())
    bad = [
        (usage_of([], start=now, end=now - 7200), "end_time"),
        (usage_of([spb.USAGE_GROUPING_UNSPECIFIED]), "group_by"),
        (spb.GetUsageRequest(start_time=timestamp_pb2.Timestamp(seconds=10**12)), "start_time"),
        (spb.GetUsageRequest(end_time=timestamp_pb2.Timestamp(nanos=-1)), "end_time"),
    ]
    for request, field in bad:
        err = await expect_error(acme.sessions.GetUsage(request), grpc.StatusCode.INVALID_ARGUMENT)
        assert has_violation(err, field), field


async def test_an_all_tenants_operator_sees_every_tenant(channel: grpc.aio.Channel) -> None:
    acme, beta, ops = (As.of(channel, who) for who in ("acme", "beta", "operator"))
    for who in (acme, beta, beta):
        await who.create("a")
    await acme.send_and_wait("a", "x")
    await beta.send_and_wait("a", "y")
    await beta.send_and_wait("a", "z")
    usage = await ops.sessions.GetUsage(usage_of([spb.USAGE_GROUPING_TENANT]))
    assert [(r.tenant, r.runs) for r in usage.rows] == [("acme", 1), ("beta", 2)]


async def test_usage_metrics_have_bounded_labels(
    server: ServerHandle, channel: grpc.aio.Channel
) -> None:
    acme, stranger = As.of(channel, "acme"), As.of(channel, "default")
    await acme.create("agent:gpt:a", model="m-big")
    await acme.send_and_wait("agent:gpt:a", "hello")
    await stranger.create("a")
    await stranger.send_and_wait("a", "hi")
    assert server.running is not None
    url = f"http://127.0.0.1:{server.running.metrics_port}/metrics"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        text = await response.text()
    runs = [line for line in text.splitlines() if line.startswith("sessiond_tenant_runs_total{")]
    assert sorted(runs) == [
        'sessiond_tenant_runs_total{agent="gpt",model="m-big",tenant="acme"} 1.0',
        'sessiond_tenant_runs_total{agent="main",model="m-main",tenant="default"} 1.0',
    ]
    assert 'sessiond_tenant_cost_usd_total{agent="main",model="m-main",tenant="default"}' in text
    assert 'sessiond_tenant_tokens_total{agent="gpt",direction="output",model="m-big"' in text
