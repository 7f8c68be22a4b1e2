"""Budgets in tokens and cost, per session (UpdateSession) and per tenant per day and month
(config): a Send while one is spent is FAILED_PRECONDITION `BUDGET_EXCEEDED`; a run that
crosses one mid-reply stops with stop reason `budget`, its partial reply kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import grpc
import pytest
from conftest import ServerHandle
from google.protobuf import field_mask_pb2
from helpers import error_info, expect_error, has_violation, live
from sessiond.config import AgentConfig, Config, TenantConfig
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import resources_pb2
from sessiond.v1 import session_service_pb2 as spb
from tenant_helpers import As, with_tokens

QUESTION = "x " * 200
"""400 characters: its echo is about 100 tokens out, after about 100 in."""


@pytest.fixture
def config(config: Config) -> Config:
    # Prices make cost budgets testable: $1 per thousand tokens, in and out.
    priced = AgentConfig(price_input_per_mtok=1000.0, price_output_per_mtok=1000.0)
    slow = replace(config, echo_chunk_chars=4, echo_delay_ms=5, agents={"main": priced})
    return with_tokens(slow, acme=TenantConfig(daily_tokens=150), beta=TenantConfig())


@pytest.fixture
async def channel(server: ServerHandle) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(server.target) as chan:
        yield chan


async def set_budget(who: As, key: str, **budget: float) -> resources_pb2.Session:
    reply = await who.sessions.UpdateSession(
        spb.UpdateSessionRequest(
            key=key,
            update=spb.SessionUpdate(**budget),
            update_mask=field_mask_pb2.FieldMask(paths=list(budget)),
        )
    )
    return reply.session  # type: ignore[no-any-return]


async def stopped_by_budget(who: As, key: str, run: resources_pb2.Run) -> resources_pb2.Message:
    """Asserts `run` stopped with `budget` and returns the partial reply it left."""
    assert (run.status, run.stop_reason) == (resources_pb2.RUN_STATUS_ABORTED, "budget")
    page = await who.sessions.ListMessages(spb.ListMessagesRequest(key=key))
    reply = page.messages[-1]
    assert reply.role == resources_pb2.ROLE_ASSISTANT
    assert reply.stop_reason == "budget"
    assert 0 < len(reply.text) < len(QUESTION)
    assert QUESTION.startswith(reply.text)
    return reply  # type: ignore[no-any-return]


async def test_a_run_crossing_its_session_budget_stops_with_its_partial_reply(
    channel: grpc.aio.Channel,
) -> None:
    beta = As.of(channel, "beta")
    await beta.create("a")
    session = await set_budget(beta, "a", budget_tokens=150)
    assert session.budget_tokens == 150
    stream = beta.chat.WatchChat(cpb.WatchChatRequest(session_key="a", start_at_end=True))
    await live(stream)
    run = await beta.send_and_wait("a", QUESTION)
    await stopped_by_budget(beta, "a", run)
    # The request (~100 tokens) and reply so far went past the budget, not much more.
    assert 150 < run.usage.total_tokens <= 160
    async for response in stream:
        if response.event.HasField("aborted"):
            assert response.event.aborted.stop_reason == "budget"
            stream.cancel()
            break
    after = await beta.sessions.GetSession(spb.GetSessionRequest(key="a"))
    assert after.session.usage.total_tokens == run.usage.total_tokens
    err = await expect_error(
        beta.chat.Send(cpb.SendRequest(session_key="a", text="more")),
        grpc.StatusCode.FAILED_PRECONDITION,
        "BUDGET_EXCEEDED",
    )
    assert error_info(err)[1] == {
        "budget": "session_tokens",
        "limit": "150",
        "spent": str(run.usage.total_tokens),
    }
    # Raising the budget lets the session go on.
    await set_budget(beta, "a", budget_tokens=0)
    done = await beta.send_and_wait("a", "short")
    assert done.stop_reason == "completed"


async def test_a_session_cost_budget_refuses_the_next_send(channel: grpc.aio.Channel) -> None:
    beta = As.of(channel, "beta")
    await beta.create("a")
    run = await beta.send_and_wait("a", "a short question")
    spent = run.usage.estimated_cost_usd
    assert spent > 0
    await set_budget(beta, "a", budget_cost_usd=spent / 2)
    err = await expect_error(
        beta.chat.Send(cpb.SendRequest(session_key="a", text="more")),
        grpc.StatusCode.FAILED_PRECONDITION,
        "BUDGET_EXCEEDED",
    )
    assert error_info(err)[1]["budget"] == "session_cost_usd"


async def test_a_tenants_daily_budget_stops_its_runs_and_refuses_its_sends(
    channel: grpc.aio.Channel,
) -> None:
    acme, beta = As.of(channel, "acme"), As.of(channel, "beta")
    await acme.create("a")
    run = await acme.send_and_wait("a", QUESTION)
    await stopped_by_budget(acme, "a", run)
    await acme.create("b")
    err = await expect_error(
        acme.chat.Send(cpb.SendRequest(session_key="b", text="more")),
        grpc.StatusCode.FAILED_PRECONDITION,
        "BUDGET_EXCEEDED",
    )
    budget = error_info(err)[1]
    assert (budget["budget"], budget["limit"]) == ("daily_tokens", "150")
    assert int(budget["spent"]) == run.usage.total_tokens
    await beta.create("a")
    assert (await beta.send_and_wait("a", QUESTION)).stop_reason == "completed"


async def test_budgets_must_be_finite_and_not_negative(channel: grpc.aio.Channel) -> None:
    beta = As.of(channel, "beta")
    await beta.create("a")
    for budget in ({"budget_tokens": -1}, {"budget_cost_usd": float("nan")}):
        err = await expect_error(set_budget(beta, "a", **budget), grpc.StatusCode.INVALID_ARGUMENT)
        assert has_violation(err, next(iter(budget)))
