"""Reply shaping (DESIGN "Stream rules"): silent replies, held prefixes, coalescing, aborts."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import pytest
from helpers import (
    StreamReader,
    body_of,
    create_session,
    ends_run,
    list_messages,
    mixed_text,
    read_to_end,
    wait_run,
)
from sessiond.config import Config
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, events_pb2, resources_pb2, session_service_pb2_grpc

Sessions = session_service_pb2_grpc.SessionServiceStub
Chat = chat_service_pb2_grpc.ChatServiceStub
R = resources_pb2


@pytest.fixture
def config(config: Config, request: pytest.FixtureRequest) -> Config:
    overrides: dict[str, Any] = {"echo_delay_ms": 5, "echo_chunk_chars": 2}
    overrides.update(getattr(request, "param", {}))
    return replace(config, **overrides)


def server_config(**overrides: Any) -> pytest.MarkDecorator:
    """Runs a test against a server with these Config overrides."""
    label = ",".join(f"{k}={v}" for k, v in overrides.items())
    return pytest.mark.parametrize("config", [overrides], indirect=True, ids=[label])


async def chat_events(chat: Chat, key: str, text: str) -> list[events_pb2.ChatEvent]:
    call = chat.Chat(cpb.ChatRequest(session_key=key, text=text))
    return [r.event for r in await read_to_end(call)]


def deltas(events: list[events_pb2.ChatEvent]) -> list[events_pb2.ChatEvent]:
    return [e for e in events if body_of(e) == "delta"]


def joined(events: list[events_pb2.ChatEvent]) -> str:
    return "".join(e.delta.text for e in deltas(events))


def ms(event: events_pb2.ChatEvent) -> int:
    return event.ts.seconds * 1000 + event.ts.nanos // 1_000_000


@pytest.mark.parametrize(
    "config",
    [{"echo_chunk_chars": 1}, {"echo_chunk_chars": 2}, {"echo_chunk_chars": 8}],
    indirect=True,
    ids=["chunk1", "chunk2", "chunk8"],
)
async def test_silent_reply(sessions: Sessions, chat: Chat, config: Config) -> None:
    await create_session(sessions, key="hush")
    events = await chat_events(chat, "hush", "NO_REPLY")
    # Even one character at a time: a lone "N" is held like any other prefix of the token.
    assert [body_of(e) for e in events] == ["run_started", "final"], "no deltas"
    final = events[-1].final
    assert not final.HasField("message")
    assert final.stop_reason == "silent"

    run = await wait_run(chat, events[-1].run_id)
    assert run.status == R.RUN_STATUS_DONE
    assert run.stop_reason == "silent"
    visible = await list_messages(sessions, "hush")
    assert [(m.role, m.text) for m in visible] == [(R.ROLE_USER, "NO_REPLY")]
    everything = await list_messages(sessions, "hush", include_silent=True)
    assert [m.role for m in everything] == [R.ROLE_USER, R.ROLE_ASSISTANT]
    kept = everything[-1]
    assert kept.silent
    assert kept.text == "NO_REPLY"
    assert kept.stop_reason == "silent"
    assert kept.seq == 2


@server_config(echo_chunk_chars=8)
async def test_silent_reply_with_surrounding_whitespace(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="hush-ws")
    events = await chat_events(chat, "hush-ws", " NO_REPLY\n")
    final = events[-1].final
    assert final.stop_reason == "silent", "the reply, trimmed, is the silent token"
    assert not final.HasField("message")
    assert deltas(events) == [], f"silent replies produce no deltas: {joined(events)!r}"


# "NO" and "NO_REP" were delivered under the old rule (a reply ending as a prefix of the
# token was not silent); DESIGN's stream rules make them silent (test_prefix_replies_are_silent).
@pytest.mark.parametrize("text", ["NO_REPLY and more", "NOPE", "No way", "no_reply", "N."])
async def test_not_silent_replies_are_delivered(sessions: Sessions, chat: Chat, text: str) -> None:
    await create_session(sessions, key="loud")
    events = await chat_events(chat, "loud", text)
    final = events[-1].final
    assert final.stop_reason == "completed"
    assert final.HasField("message")
    assert final.message.text == text
    assert joined(events) == text
    offsets = [e.delta.offset for e in deltas(events)]
    assert offsets[0] == 0
    messages = await list_messages(sessions, "loud")
    assert [m.text for m in messages] == [text, text]
    assert not messages[-1].silent


async def watched_run(chat: Chat, key: str, text: str) -> list[events_pb2.ChatEvent]:
    """The events of one Send's run as a WatchChat stream, live before the Send, shows them."""
    async with StreamReader(chat.WatchChat(cpb.WatchChatRequest(session_key=key))) as reader:
        # The session's creation, replayed: the stream is subscribed to live events.
        await reader.read_until(lambda r: body_of(r.event) == "session_changed")
        sent = await chat.Send(cpb.SendRequest(session_key=key, text=text))
        received = await reader.read_until(lambda r: ends_run(r.event, sent.run_id), timeout=10)
    return [r.event for r in received if r.event.run_id == sent.run_id]


# One character a chunk, each released at once: only holding keeps a prefix off the stream.
@server_config(echo_chunk_chars=1, echo_delay_ms=2, delta_interval_ms=0)
@pytest.mark.parametrize("text", ["N", "NO", "NO_", "NO_REP", " NO_REPL\n"])
async def test_prefix_replies_are_silent(sessions: Sessions, chat: Chat, text: str) -> None:
    """DESIGN's stream rules: a reply that is a prefix of the silent token is silent too."""
    await create_session(sessions, key="almost")
    events = await watched_run(chat, "agent:main:almost", text)
    assert [body_of(e) for e in events] == ["run_started", "final"], joined(events)
    final = events[-1].final
    assert not final.HasField("message")
    assert final.stop_reason == "silent"
    run = await wait_run(chat, events[-1].run_id)
    assert (run.status, run.stop_reason) == (R.RUN_STATUS_DONE, "silent")
    visible = await list_messages(sessions, "almost")
    assert [m.role for m in visible] == [R.ROLE_USER]
    kept = (await list_messages(sessions, "almost", include_silent=True))[-1]
    assert (kept.role, kept.text, kept.silent) == (R.ROLE_ASSISTANT, text, True)


@server_config(echo_chunk_chars=1, echo_delay_ms=2, delta_interval_ms=0)
@pytest.mark.parametrize(
    ("text", "first"),
    [("NOPE", "NOP"), ("No way", "No"), ("NO_REPLY!", "NO_REPLY!"), ("  NX", "  NX")],
)
async def test_held_prefix_is_released_whole_when_the_reply_diverges(
    sessions: Sessions, chat: Chat, text: str, first: str
) -> None:
    """Nothing is streamed while the reply is a prefix of the token; the first delta holds
    the held text and the character that ended the hold, at offset 0."""
    await create_session(sessions, key="diverge")
    events = await watched_run(chat, "agent:main:diverge", text)
    parts = deltas(events)
    assert parts, "the reply is delivered"
    assert (parts[0].delta.offset, parts[0].delta.text) == (0, first)
    assert joined(events) == text
    final = events[-1].final
    assert final.stop_reason == "completed"
    assert final.message.text == text


@server_config(echo_chunk_chars=1, echo_delay_ms=2, delta_interval_ms=150)
async def test_deltas_are_coalesced(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="coalesce")
    text = mixed_text(200)
    events = await chat_events(chat, "coalesce", text)
    parts = deltas(events)
    assert joined(events) == text == events[-1].final.message.text
    assert 1 <= len(parts) <= 20, f"{len(parts)} deltas for 200 one-character chunks"
    # At most one delta per interval; only the flush before `final` may come sooner.
    gaps = [ms(b) - ms(a) for a, b in itertools.pairwise(parts[:-1])]
    assert all(gap >= 140 for gap in gaps), gaps


@server_config(echo_chunk_chars=1, echo_delay_ms=2, delta_interval_ms=0)
async def test_without_an_interval_deltas_follow_the_agent(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="firehose")
    text = mixed_text(200)
    events = await chat_events(chat, "firehose", text)
    assert joined(events) == text == events[-1].final.message.text
    assert len(deltas(events)) >= 50, len(deltas(events))
    offset = 0
    for event in deltas(events):
        assert event.delta.offset == offset
        offset += len(event.delta.text)


@server_config(echo_chunk_chars=1, echo_delay_ms=3, delta_interval_ms=0)
async def test_no_deltas_after_an_abort(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="halt")
    text = mixed_text(600)
    watch = chat.WatchChat(cpb.WatchChatRequest(session_key="halt"))
    async with StreamReader(watch) as reader:
        chat_call = chat.Chat(cpb.ChatRequest(session_key="halt", text=text))
        async with StreamReader(chat_call) as chat_reader:
            head = await chat_reader.read_until(lambda r: body_of(r.event) == "delta")
            run_id = head[0].event.run_id
            await reader.read_n(1)
            aborted = await chat.Abort(cpb.AbortRequest(session_key="halt"))
            assert aborted.aborted_run_id == run_id
            rest = await chat_reader.read_until(lambda r: ends_run(r.event, run_id))
        after = await chat.Send(cpb.SendRequest(session_key="halt", text="and then"))
        await reader.read_until(lambda r: ends_run(r.event, after.run_id), timeout=10)

    chat_events_seen = [r.event for r in head + rest]
    assert body_of(chat_events_seen[-1]) == "aborted"
    watched = [r.event for r in reader.received]
    end = next(i for i, e in enumerate(watched) if ends_run(e, run_id))
    assert body_of(watched[end]) == "aborted"
    assert [e for e in watched[end + 1 :] if e.run_id == run_id] == []

    partial = [
        m
        for m in await list_messages(sessions, "halt")
        if m.role == R.ROLE_ASSISTANT and m.run_id == run_id
    ]
    assert len(partial) == 1
    assert text.startswith(partial[0].text)
    for seen in (chat_events_seen, watched[:end]):
        streamed = "".join(e.delta.text for e in seen if e.run_id == run_id and e.HasField("delta"))
        assert partial[0].text.startswith(streamed), "deltas sent are part of the saved partial"
