"""UpdatePluginState (set / replace / unset, validation) and InjectMessage."""

from __future__ import annotations

import math
from typing import Any

import grpc
import pytest
from google.protobuf import json_format, struct_pb2
from helpers import create_session, expect_error, has_violation
from maintenance_helpers import (
    get_session,
    messages_of,
    session_events_until,
    watch_chat,
)
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, events_pb2, resources_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

Sessions = session_service_pb2_grpc.SessionServiceStub
Chat = chat_service_pb2_grpc.ChatServiceStub
Code = grpc.StatusCode
R = resources_pb2
PLUGIN_UPDATE = events_pb2.SESSION_EVENT_REASON_PLUGIN_UPDATE


def value(data: Any) -> struct_pb2.Value:
    pb = struct_pb2.Value()
    json_format.ParseDict(data, pb)
    return pb


def state_of(session: R.Session) -> dict[tuple[str, str], Any]:
    """The session's plugin state as {(plugin_id, namespace): JSON value}."""
    found = {
        (e.plugin_id, e.namespace): json_format.MessageToDict(e.value) for e in session.plugin_state
    }
    assert len(found) == len(session.plugin_state), "an entry listed twice"
    return found


async def update(sessions: Sessions, key: str, **fields: Any) -> R.Session:
    response = await sessions.UpdatePluginState(spb.UpdatePluginStateRequest(key=key, **fields))
    session: R.Session = response.session
    return session


async def test_plugin_state_set_replace_and_unset(sessions: Sessions) -> None:
    created = await create_session(sessions, label="plugins")
    first = {"count": 3, "tags": ["a", "b"], "nested": {"on": True, "none": None}}

    one = await update(
        sessions, created.key, plugin_id="memory", namespace="notes", value=value(first)
    )
    assert state_of(one) == {("memory", "notes"): first}
    assert one.etag != created.etag
    assert state_of(await get_session(sessions, created.key)) == {("memory", "notes"): first}

    await update(sessions, created.key, plugin_id="memory", namespace="prefs", value=value("dark"))
    three = await update(
        sessions, created.key, plugin_id="timer", namespace="notes", value=value(1.5)
    )
    assert state_of(three) == {
        ("memory", "notes"): first,
        ("memory", "prefs"): "dark",
        ("timer", "notes"): 1.5,
    }

    # Setting an existing (plugin_id, namespace) replaces just that value.
    replaced = await update(
        sessions, created.key, plugin_id="memory", namespace="notes", value=value([1, "two", None])
    )
    assert state_of(replaced) == {
        ("memory", "notes"): [1, "two", None],
        ("memory", "prefs"): "dark",
        ("timer", "notes"): 1.5,
    }

    unset = await update(sessions, created.key, plugin_id="memory", namespace="notes", unset=True)
    assert state_of(unset) == {("memory", "prefs"): "dark", ("timer", "notes"): 1.5}
    stored = await get_session(sessions, created.key)
    assert state_of(stored) == state_of(unset)
    # Nothing else of the session changed.
    assert (stored.session_id, stored.label) == (created.session_id, "plugins")

    events = await session_events_until(
        sessions,
        created.key,
        lambda e: (
            e.reason == PLUGIN_UPDATE
            and not any(
                s.plugin_id == "memory" and s.namespace == "notes" for s in e.session.plugin_state
            )
        ),
    )
    updates = [e for e in events if e.reason == PLUGIN_UPDATE]
    assert len(updates) == 5
    assert state_of(updates[0].session) == {("memory", "notes"): first}


async def test_plugin_state_null_and_scalar_values(sessions: Sessions) -> None:
    created = await create_session(sessions)
    for data in (None, False, 0, "", {}, []):
        session = await update(
            sessions, created.key, plugin_id="p", namespace="n", value=value(data)
        )
        assert state_of(session) == {("p", "n"): data}, data
        assert session.plugin_state[0].value.WhichOneof("kind") is not None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"plugin_id": "p", "namespace": "n", "value": value(1), "unset": True}, "value"),
        ({"plugin_id": "p", "namespace": "n"}, "value"),
        ({"namespace": "n", "value": value(1)}, "plugin_id"),
        ({"plugin_id": "   ", "namespace": "n", "value": value(1)}, "plugin_id"),
        ({"plugin_id": "p", "value": value(1)}, "namespace"),
        ({"plugin_id": "p" * 129, "namespace": "n", "value": value(1)}, "plugin_id"),
        ({"plugin_id": "p", "namespace": "n", "value": value(math.nan)}, "value"),
        ({"plugin_id": "p", "namespace": "n", "value": value({"x": [math.inf]})}, "value"),
        ({"plugin_id": "p", "namespace": "n", "value": value("x" * 70_000)}, "value"),
    ],
    ids=[
        "value_and_unset",
        "neither",
        "no_plugin_id",
        "blank_plugin_id",
        "no_namespace",
        "long_plugin_id",
        "nan",
        "infinity",
        "too_large",
    ],
)
async def test_invalid_plugin_updates(
    sessions: Sessions, fields: dict[str, Any], field: str
) -> None:
    created = await create_session(sessions)
    await update(sessions, created.key, plugin_id="p", namespace="n", value=value("kept"))

    err = await expect_error(update(sessions, created.key, **fields), Code.INVALID_ARGUMENT)

    assert has_violation(err, field), err
    assert state_of(await get_session(sessions, created.key)) == {("p", "n"): "kept"}


async def test_plugin_state_of_a_missing_session(sessions: Sessions) -> None:
    await expect_error(
        update(sessions, "agent:main:nobody", plugin_id="p", namespace="n", value=value(1)),
        Code.NOT_FOUND,
        "SESSION_NOT_FOUND",
    )


async def test_inject_appends_an_assistant_message_and_emits_a_final(
    sessions: Sessions, chat: Chat
) -> None:
    created = await create_session(sessions)
    await chat.Send(cpb.SendRequest(session_key=created.key, text="hello"))
    async with watch_chat(chat, created.key) as reader:
        # The feed is live from here on: wait for the run's end, then inject.
        await reader.read_until(lambda r: r.event.WhichOneof("body") == "final", timeout=10)
        before = await messages_of(sessions, created.key)
        assert len(before) == 2

        response = await chat.InjectMessage(
            cpb.InjectMessageRequest(session_key=created.key, text="Injected reply", label="note")
        )

        final = (
            await reader.read_until(lambda r: r.event.WhichOneof("body") == "final", timeout=10)
        )[-1].event
    stored = response.message
    assert stored.role == R.ROLE_ASSISTANT
    assert stored.text == "Injected reply"
    assert stored.label == "note"
    assert stored.seq == 3
    assert stored.session_id == created.session_id

    history = await messages_of(sessions, created.key)
    assert [(m.seq, m.role, m.text, m.label) for m in history[2:]] == [
        (3, R.ROLE_ASSISTANT, "Injected reply", "note")
    ]
    assert history[:2] == before
    session = await get_session(sessions, created.key)
    assert session.message_count == 3
    assert not session.has_active_run

    assert final.session_key == created.key
    assert final.run_id == ""
    assert final.final.HasField("message")
    assert final.final.message.role == R.ROLE_ASSISTANT
    assert final.final.message.text == "Injected reply"
    assert final.final.message.label == "note"
    assert final.final.message.seq == 3
    runs = await chat.ListRuns(cpb.ListRunsRequest(session_key=created.key))
    assert len(runs.runs) == 1  # only the Send's run: injecting starts none

    # The final is durable: a replay from the start shows it too.
    async with watch_chat(chat, created.key) as replay:
        events = await replay.read_until(lambda r: r.event.cursor == final.cursor, timeout=10)
    assert events[-1].event.final.message.text == "Injected reply"


async def test_inject_without_label_and_into_an_empty_session(
    sessions: Sessions, chat: Chat
) -> None:
    created = await create_session(sessions)
    response = await chat.InjectMessage(
        cpb.InjectMessageRequest(session_key=created.key, text="  first words  ")
    )
    assert response.message.seq == 1
    assert response.message.label == ""
    history = await messages_of(sessions, created.key)
    assert [(m.role, m.label) for m in history] == [(R.ROLE_ASSISTANT, "")]
    assert history[0].text == response.message.text


@pytest.mark.parametrize(
    ("request_fields", "code"),
    [
        ({"session_key": "agent:main:nobody", "text": "hi"}, Code.NOT_FOUND),
        ({"text": "hi"}, Code.INVALID_ARGUMENT),
        ({"session_key": "SESSION", "text": ""}, Code.INVALID_ARGUMENT),
        ({"session_key": "SESSION", "text": "bad\x00text"}, Code.INVALID_ARGUMENT),
    ],
    ids=["missing_session", "no_key", "empty_text", "nul"],
)
async def test_invalid_inject(
    sessions: Sessions, chat: Chat, request_fields: dict[str, str], code: grpc.StatusCode
) -> None:
    created = await create_session(sessions)
    if request_fields.get("session_key") == "SESSION":
        request_fields = request_fields | {"session_key": created.key}
    await expect_error(chat.InjectMessage(cpb.InjectMessageRequest(**request_fields)), code)
    assert await messages_of(sessions, created.key) == []
