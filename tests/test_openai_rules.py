"""The fake server's strict mode refuses what strict providers refuse (and only that):
otherwise the openai tests, which all run against it, would prove nothing."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from fake_openai import FakeOpenAI
from openai_rules import problems


def _call(call_id: str, name: str = "lookup") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": "{}"}}


def _asks(*calls: str, content: str | None = None) -> dict[str, Any]:
    return {"role": "assistant", "content": content, "tool_calls": [_call(c) for c in calls]}


def _answer(call_id: str, text: str = "result") -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": text}


USER = {"role": "user", "content": "hi"}
ASSISTANT = {"role": "assistant", "content": "hello"}
SYSTEM = {"role": "system", "content": "Be brief."}

VALID = {
    "one turn": [SYSTEM, USER],
    "a conversation": [USER, ASSISTANT, USER],
    "tool results answered in any order": [USER, _asks("a", "b"), _answer("b"), _answer("a")],
    "a reply after tool results": [USER, _asks("a"), _answer("a"), ASSISTANT, USER],
    "text beside tool calls": [USER, _asks("a", content="Let me look."), _answer("a"), USER],
    "an image with text": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
            ],
        }
    ],
}

INVALID = {
    "no messages": [],
    "ends with the assistant": [USER, ASSISTANT],
    "a call never answered": [USER, _asks("a"), USER],
    "a call answered after a user message": [USER, _asks("a"), USER, _answer("a")],
    "one of two calls answered": [USER, _asks("a", "b"), _answer("a"), USER],
    "a second call message before the first's result": [
        USER,
        _asks("a"),
        _asks("b"),
        _answer("a"),
        _answer("b"),
    ],
    "a result answering no call": [USER, ASSISTANT, _answer("a"), USER],
    "a result first": [_answer("a"), USER],
    "a call answered twice": [USER, _asks("a"), _answer("a"), _answer("a"), USER],
    "an empty user message": [{"role": "user", "content": ""}],
    "a blank assistant message": [USER, {"role": "assistant", "content": "  "}, USER],
    "an assistant message with nothing": [USER, {"role": "assistant", "content": None}, USER],
    "an empty text part": [{"role": "user", "content": [{"type": "text", "text": ""}]}],
    "an empty tool result": [USER, _asks("a"), _answer("a", ""), USER],
    "calls without ids": [USER, _asks(""), _answer(""), USER],
}


@pytest.mark.parametrize("messages", VALID.values(), ids=VALID.keys())
def test_valid_requests_pass(messages: list[dict[str, Any]]) -> None:
    assert problems({"messages": messages}) == []


@pytest.mark.parametrize("messages", INVALID.values(), ids=INVALID.keys())
def test_invalid_requests_are_named(messages: list[dict[str, Any]]) -> None:
    assert problems({"messages": messages})


async def test_strict_server_answers_400_and_keeps_its_reply() -> None:
    server = FakeOpenAI()
    await server.start()
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
    try:
        with pytest.raises(openai.BadRequestError) as refused:
            await client.chat.completions.create(
                model="m",
                messages=[USER, _asks("a"), USER],  # type: ignore[list-item]
            )
        assert refused.value.status_code == 400
        assert "were not answered" in refused.value.message
        assert len(server.rejected) == 1
        answered = await client.chat.completions.create(
            model="m",
            messages=[USER],  # type: ignore[list-item]
            stream=True,
        )
        text = "".join([c.choices[0].delta.content or "" async for c in answered if c.choices])
        assert text == "ok"  # the scripted default: the refused request took no reply
    finally:
        await client.close()
        await server.stop()
