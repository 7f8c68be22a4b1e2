"""`to_openai_messages` builds requests strict providers accept from any transcript the
service can hold: calls without results, results without calls, blank and silent
entries, images without text."""

from __future__ import annotations

from typing import Any

import pytest
from openai_rules import problems
from sessiond.agents.base import AgentRequest
from sessiond.agents.openai_backend import NO_RESULT_TEXT, to_openai_messages
from sessiond.domain.models import Attachment, Message, Role


def _entry(role: Role, text: str = "", **fields: Any) -> Message:
    return Message("sid", 0, role, text, 0, **fields)


def _q(text: str) -> Message:
    return _entry(Role.USER, text)


def _a(text: str, **fields: Any) -> Message:
    return _entry(Role.ASSISTANT, text, **fields)


def _call(call_id: str) -> Message:
    return _entry(Role.TOOL_CALL, tool_call_id=call_id, tool_name="lookup", tool_input="{}")


def _result(call_id: str, text: str = "found") -> Message:
    return _entry(Role.TOOL_RESULT, text, tool_call_id=call_id)


def _build(*transcript: Message, system: str = "") -> list[dict[str, Any]]:
    request = AgentRequest("gpt", "m", system, transcript)
    messages = to_openai_messages(request)
    assert problems({"messages": messages}) == []
    return messages


def _shape(messages: list[dict[str, Any]]) -> list[str]:
    """Roles, a tool call as `call:<ids>`, a tool message as `tool:<id>`."""
    shape = []
    for m in messages:
        if m.get("tool_calls"):
            shape.append("call:" + ",".join(c["id"] for c in m["tool_calls"]))
        elif m["role"] == "tool":
            shape.append(f"tool:{m['tool_call_id']}")
        else:
            shape.append(m["role"])
    return shape


CASES = {
    "calls in a row are one turn": (
        [_q("q"), _call("a"), _call("b"), _result("a"), _result("b"), _a("x"), _q("q2")],
        ["user", "call:a,b", "tool:a", "tool:b", "assistant", "user"],
    ),
    "a call after a result is a new turn": (
        [_q("q"), _call("a"), _result("a"), _call("b"), _result("b"), _q("q2")],
        ["user", "call:a", "tool:a", "call:b", "tool:b", "user"],
    ),
    "a result after another entry is pulled up to its call": (
        [_q("q"), _call("a"), _q("q2"), _result("a"), _q("q3")],
        ["user", "call:a", "tool:a", "user", "user"],
    ),
    "a call without result gets a stand-in": (
        [_q("q"), _call("a"), _a("x"), _q("q2")],
        ["user", "call:a", "tool:a", "assistant", "user"],
    ),
    "a result without its call is dropped": (
        [_result("gone"), _a("x"), _q("q")],
        ["assistant", "user"],
    ),
    "a call recorded twice is sent once": (
        [_q("q"), _call("a"), _call("a"), _result("a"), _q("q2")],
        ["user", "call:a", "tool:a", "user"],
    ),
    "ending with tool results": (
        [_q("q"), _call("a"), _result("a")],
        ["user", "call:a", "tool:a"],
    ),
    "silent, blank and thinking entries are left out": (
        [
            _q("q"),
            _entry(Role.THINKING, "hmm"),
            _a("NO_REPLY", silent=True),
            _a("  "),
            _entry(Role.SYSTEM, ""),
            _q("q2"),
        ],
        ["user", "user"],
    ),
}


@pytest.mark.parametrize(("transcript", "shape"), CASES.values(), ids=CASES.keys())
def test_requests_follow_the_strict_rules(transcript: list[Message], shape: list[str]) -> None:
    assert _shape(_build(*transcript)) == shape


def test_a_call_without_result_is_answered_as_not_run() -> None:
    messages = _build(_q("q"), _call("a"), _q("q2"))
    assert messages[2] == {"role": "tool", "tool_call_id": "a", "content": NO_RESULT_TEXT}


def test_an_empty_result_is_sent_as_such_not_as_empty_content() -> None:
    messages = _build(_q("q"), _call("a"), _result("a", ""), _q("q2"))
    assert messages[2]["content"].strip()


def test_an_image_without_text_is_sent_without_an_empty_text_part() -> None:
    image = Attachment("image/png", b"\x89PNG")
    messages = _build(_entry(Role.USER, "", attachments=(image,)), system="Be brief.")
    assert messages[0] == {"role": "system", "content": "Be brief."}
    parts = messages[1]["content"]
    assert [p["type"] for p in parts] == ["image_url"]
    assert parts[0]["image_url"]["url"].startswith("data:image/png;base64,")


@pytest.mark.parametrize(
    ("recorded", "sent"),
    [
        ('{"q": "x"}', '{"q": "x"}'),
        ("", "{}"),
        ('{"q": "cut off', '{"invalid_json": "{\\"q\\": \\"cut off"}'),
        ("[1, 2]", '{"invalid_json": "[1, 2]"}'),
    ],
)
def test_call_arguments_are_always_a_json_object(recorded: str, sent: str) -> None:
    call = _entry(Role.TOOL_CALL, tool_call_id="a", tool_name="lookup", tool_input=recorded)
    messages = _build(_q("q"), call, _result("a"), _q("q2"))
    assert messages[1]["tool_calls"][0]["function"]["arguments"] == sent
