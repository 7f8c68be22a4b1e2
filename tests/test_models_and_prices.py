"""A session may only choose a model its agent's backend serves, and each run is charged
the price of the model it ran on (a table per agent, the agent's price by default)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from fake_openai import FakeOpenAI, Reply
from google.protobuf import field_mask_pb2
from helpers import create_session, error_info, expect_error, has_violation, wait_run
from sessiond import config as config_module
from sessiond.config import AgentConfig, Config, ModelPrice
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

Sessions = session_service_pb2_grpc.SessionServiceStub
Chat = chat_service_pb2_grpc.ChatServiceStub
USAGE = (11, 7)
"""Input and output tokens the fake reports for every reply."""


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def config(config: Config, fake: FakeOpenAI) -> Config:
    listed = AgentConfig(
        backend="openai",
        base_url=fake.base_url,
        model="small",
        allowed_models=("small", "big"),
        price_input_per_mtok=1.0,
        price_output_per_mtok=2.0,
        prices={"big": ModelPrice(input_per_mtok=10.0, output_per_mtok=20.0)},
    )
    unlisted = AgentConfig(backend="openai", base_url=fake.base_url, model="any")
    return replace(config, agents={"main": AgentConfig(), "gpt": listed, "open": unlisted})


async def set_model(sessions: Sessions, key: str, model: str) -> spb.UpdateSessionResponse:
    response: spb.UpdateSessionResponse = await sessions.UpdateSession(
        spb.UpdateSessionRequest(
            key=key,
            update=spb.SessionUpdate(model=model),
            update_mask=field_mask_pb2.FieldMask(paths=["model"]),
        )
    )
    return response


async def test_a_model_the_agents_backend_does_not_serve_is_invalid(sessions: Sessions) -> None:
    err = await expect_error(
        sessions.CreateSession(spb.CreateSessionRequest(agent_id="gpt", model="huge")),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    reason, metadata = error_info(err)
    assert reason == "MODEL_NOT_SERVED"
    assert metadata["models"] == "small,big"
    assert has_violation(err, "model")

    key = (await create_session(sessions, agent_id="gpt")).key
    err = await expect_error(set_model(sessions, key, "huge"), grpc.StatusCode.INVALID_ARGUMENT)
    assert error_info(err)[0] == "MODEL_NOT_SERVED"
    assert "small, big" in (err.details() or "")
    assert (await set_model(sessions, key, "big")).session.model == "big"


async def test_an_agent_that_lists_no_models_takes_any(sessions: Sessions) -> None:
    key = (await create_session(sessions, agent_id="open", model="whatever-1")).key
    assert (await set_model(sessions, key, "whatever-2")).session.model == "whatever-2"
    echo = (await create_session(sessions, key="echo", model="not-a-real-model")).key
    assert (await set_model(sessions, echo, "still-not")).session.model == "still-not"


async def _reply(chat: Chat, fake: FakeOpenAI, key: str) -> cpb.GetRunResponse:
    fake.replies.append(Reply(chunks=["ok"], usage=USAGE))
    sent = await chat.Send(cpb.SendRequest(session_key=key, text="hi"))
    await wait_run(chat, sent.run_id)
    response: cpb.GetRunResponse = await chat.GetRun(cpb.GetRunRequest(run_id=sent.run_id))
    return response


async def test_each_run_is_charged_the_price_of_its_model(
    sessions: Sessions, chat: Chat, fake: FakeOpenAI
) -> None:
    cheap = (await create_session(sessions, agent_id="gpt")).key
    dear = (await create_session(sessions, agent_id="gpt")).key
    await set_model(sessions, dear, "big")

    agent_price = (11 * 1.0 + 7 * 2.0) / 1e6
    model_price = (11 * 10.0 + 7 * 20.0) / 1e6
    assert (await _reply(chat, fake, cheap)).run.usage.estimated_cost_usd == pytest.approx(
        agent_price
    )
    for _ in range(2):
        run = (await _reply(chat, fake, dear)).run
        assert run.usage.estimated_cost_usd == pytest.approx(model_price)
    assert [r["model"] for r in fake.requests] == ["small", "big", "big"]

    totals = {
        key: (await sessions.GetSession(spb.GetSessionRequest(key=key))).session.usage
        for key in (cheap, dear)
    }
    assert totals[cheap].estimated_cost_usd == pytest.approx(agent_price)
    assert totals[dear].estimated_cost_usd == pytest.approx(2 * model_price)
    assert totals[dear].input_tokens == 2 * USAGE[0]


def test_prices_are_read_from_the_agents_table(tmp_path: Path) -> None:
    toml = tmp_path / "sessiond.toml"
    toml.write_text(
        '[agents.main]\nbackend = "echo"\n'
        '[agents.gpt]\nbackend = "openai"\nmodel = "small"\nprice_input_per_mtok = 1.0\n'
        '[agents.gpt.prices."big"]\ninput_per_mtok = 10\noutput_per_mtok = 20.5\n'
    )
    loaded = config_module.load({"SESSIOND_CONFIG": str(toml)})
    assert loaded.agents["gpt"].prices == {"big": ModelPrice(10.0, 20.5)}

    toml.write_text('[agents.main]\nbackend = "echo"\n[agents.main.prices."x"]\ncost = 1\n')
    with pytest.raises(config_module.ConfigError, match=r"prices\.x takes input_per_mtok"):
        config_module.load({"SESSIOND_CONFIG": str(toml)})
