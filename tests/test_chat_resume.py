"""WatchChat resumption: reconnects by cursor, replay, start_at_end, heartbeats, cursor rules."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace

import grpc
import pytest
from google.protobuf import field_mask_pb2
from helpers import (
    StreamReader,
    apply_delta,
    body_of,
    create_session,
    expect_error,
    gather_in_batches,
    is_durable,
    mixed_text,
    read_to_end,
)
from sessiond.config import Config
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import (
    chat_service_pb2_grpc,
    events_pb2,
    session_service_pb2_grpc,
)
from sessiond.v1 import session_service_pb2 as spb

pytestmark = pytest.mark.replicated  # also against three replicas (conftest.py)

Sessions = session_service_pb2_grpc.SessionServiceStub
Chat = chat_service_pb2_grpc.ChatServiceStub
Code = grpc.StatusCode
Reader = StreamReader[cpb.WatchChatResponse]

RECONNECTS = 50


@pytest.fixture
def config(config: Config) -> Config:
    # 2 code points every 5 ms, released every 20 ms: plenty of deltas to cut into.
    return replace(
        config, echo_delay_ms=5, echo_chunk_chars=2, delta_interval_ms=20, heartbeat_ms=100
    )


def watch(chat: Chat, key: str, after_cursor: int = 0, start_at_end: bool = False) -> Reader:
    return StreamReader(
        chat.WatchChat(
            cpb.WatchChatRequest(
                session_key=key, after_cursor=after_cursor, start_at_end=start_at_end
            )
        )
    )


async def next_durable(reader: Reader, timeout: float = 5.0) -> events_pb2.ChatEvent:  # noqa: ASYNC109
    items = await reader.read_until(lambda r: is_durable(r.event), timeout)
    return items[-1].event


async def chat_to_end(chat: Chat, key: str, text: str) -> list[events_pb2.ChatEvent]:
    return [
        r.event for r in await read_to_end(chat.Chat(cpb.ChatRequest(session_key=key, text=text)))
    ]


async def relabel(sessions: Sessions, key: str, label: str) -> None:
    await sessions.UpdateSession(
        spb.UpdateSessionRequest(
            key=key,
            update=spb.SessionUpdate(label=label),
            update_mask=field_mask_pb2.FieldMask(paths=["label"]),
        )
    )


async def test_reconnect_mid_reply_many_times(sessions: Sessions, chat: Chat) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    key = "agent:main:flaky"
    await create_session(sessions, key="flaky")

    cursor = 0
    durable: list[int] = []
    texts: dict[str, str] = {}
    sent_texts: dict[str, str] = {}
    finals: dict[str, str] = {}
    exact_checks = 0
    reconnects = 0
    while reconnects < RECONNECTS:
        text = mixed_text(rng.randint(150, 300), seed=rng.randrange(100))
        sent = await chat.Send(cpb.SendRequest(session_key=key, text=text))
        sent_texts[sent.run_id] = text
        while sent.run_id not in finals:
            call = chat.WatchChat(cpb.WatchChatRequest(session_key=key, after_cursor=cursor))
            deltas_here: set[str] = set()
            try:
                for _ in range(rng.randint(1, 6)):
                    response = await asyncio.wait_for(call.read(), 5)
                    assert response is not grpc.aio.EOF, "WatchChat ended by itself"
                    event = response.event
                    assert event.session_key == key
                    if not is_durable(event):
                        assert event.cursor == cursor, (
                            f"{body_of(event)} carries cursor {event.cursor}, last durable is "
                            f"{cursor} (seed {seed})"
                        )
                        if body_of(event) == "delta":
                            apply_delta(texts, event)
                            deltas_here.add(event.run_id)
                        continue
                    assert event.cursor > cursor, (
                        f"durable cursor {event.cursor} after {cursor}: seen twice or "
                        f"out of order (seed {seed})"
                    )
                    cursor = event.cursor
                    durable.append(cursor)
                    if body_of(event) == "final":
                        final_text = event.final.message.text
                        finals[event.run_id] = final_text
                        got = texts.get(event.run_id, "")
                        assert final_text.startswith(got), f"seed {seed}"
                        if event.run_id in deltas_here:
                            # This connection was live while the run streamed: nothing missing.
                            assert got == final_text, f"seed {seed}"
                            exact_checks += 1
                        if event.run_id == sent.run_id:
                            break
            finally:
                call.cancel()
            reconnects += 1

    assert durable == list(range(1, cursor + 1)), "durable cursors must be gap-free, each once"
    assert finals == sent_texts
    # Whether a random reconnect stayed for a whole run (exact_checks) is up to timing; a
    # connection that stays always does: from the run's first delta, nothing missing.
    await _follow_one_run_live(chat, key, cursor, mixed_text(300, seed=seed % 100))


async def _follow_one_run_live(chat: Chat, key: str, cursor: int, text: str) -> None:
    # Replaying the last durable event first proves the stream is open before the Send.
    call = chat.WatchChat(cpb.WatchChatRequest(session_key=key, after_cursor=cursor - 1))
    live: dict[str, str] = {}
    try:
        first = await asyncio.wait_for(call.read(), 5)
        assert first.event.cursor == cursor
        sent = await chat.Send(cpb.SendRequest(session_key=key, text=text))
        while True:
            response = await asyncio.wait_for(call.read(), 5)
            assert response is not grpc.aio.EOF, "WatchChat ended by itself"
            event = response.event
            if body_of(event) == "delta":
                apply_delta(live, event)
            elif body_of(event) == "final" and event.run_id == sent.run_id:
                assert event.final.message.text == text
                break
    finally:
        call.cancel()
    assert live[sent.run_id] == text


async def test_after_cursor_replays_exactly_what_follows(sessions: Sessions, chat: Chat) -> None:
    key = "agent:main:history"
    await create_session(sessions, key="history")
    await chat_to_end(chat, key, "first")
    last = (await chat_to_end(chat, key, "second"))[-1]
    head = last.cursor
    async with watch(chat, key) as everything:
        log = [
            r.event
            for r in await everything.read_until(
                lambda r: r.event.cursor == head and is_durable(r.event)
            )
        ]
    log = [e for e in log if is_durable(e)]
    assert [e.cursor for e in log] == list(range(1, head + 1))
    assert log[-1] == last

    starts = sorted({0, 1, 2, head // 2, head - 1, head})
    readers = {n: watch(chat, key, after_cursor=n) for n in starts}
    try:
        for n, reader in readers.items():
            await reader.__aenter__()
            replayed = [await next_durable(reader) for _ in range(head - n)]
            assert replayed == log[n:], f"after_cursor={n}"
        await relabel(sessions, key, "moved on")
        for n, reader in readers.items():
            event = await next_durable(reader)
            assert event.cursor == head + 1, f"after_cursor={n}: extra events before the new one"
            assert event.session_changed.reason == events_pb2.SESSION_EVENT_REASON_UPDATE
    finally:
        for reader in readers.values():
            await reader.close()


async def test_start_at_end_streams_only_new_events(sessions: Sessions, chat: Chat) -> None:
    key = "agent:main:tail"
    await create_session(sessions, key="tail")
    head = (await chat_to_end(chat, key, "old news"))[-1].cursor
    async with watch(chat, key, start_at_end=True) as reader:
        first = await reader.next()
        # Nothing is replayed: the stream is idle until something new happens.
        assert body_of(first.event) == "heartbeat"
        sent = await chat.Send(cpb.SendRequest(session_key=key, text="fresh news"))
        items = await reader.read_until(
            lambda r: r.event.run_id == sent.run_id and body_of(r.event) == "final"
        )
    durable = [r.event for r in items if is_durable(r.event)]
    assert [e.cursor for e in durable] == list(range(head + 1, head + 1 + len(durable)))
    assert durable[0].session_changed.reason == events_pb2.SESSION_EVENT_REASON_SEND
    assert {e.run_id for e in durable[1:]} == {sent.run_id}


async def test_start_at_end_heartbeat_carries_the_head_cursor(
    sessions: Sessions, chat: Chat
) -> None:
    key = "agent:main:tail-cursor"
    await create_session(sessions, key="tail-cursor")
    head = (await chat_to_end(chat, key, "old news"))[-1].cursor
    async with watch(chat, key, start_at_end=True) as reader:
        beat = (await reader.next()).event
    assert body_of(beat) == "heartbeat"
    # Reconnecting with this cursor must not replay the whole history.
    assert beat.cursor == head


async def test_heartbeat_on_an_idle_stream(sessions: Sessions, chat: Chat) -> None:
    key = "agent:main:idle"
    await create_session(sessions, key="idle")
    head = (await chat_to_end(chat, key, "then silence"))[-1].cursor
    loop = asyncio.get_running_loop()
    async with watch(chat, key) as reader:
        await reader.read_until(lambda r: r.event.cursor == head and is_durable(r.event))
        started = loop.time()
        beats = [(await reader.next(2)).event for _ in range(3)]
        elapsed = loop.time() - started
    assert [body_of(b) for b in beats] == ["heartbeat"] * 3
    assert all(b.cursor == head for b in beats), "heartbeats carry the last durable cursor"
    assert all(b.session_key == key for b in beats)
    assert all(b.run_id == "" for b in beats)
    assert elapsed < 2.0, f"three heartbeats at 100 ms took {elapsed:.2f}s"


async def test_after_cursor_past_the_head_waits(sessions: Sessions, chat: Chat) -> None:
    key = "agent:main:future"
    await create_session(sessions, key="future")
    head = (await chat_to_end(chat, key, "now"))[-1].cursor
    async with watch(chat, key, after_cursor=head + 3) as reader:
        assert body_of((await reader.next()).event) == "heartbeat", "no error, just waiting"
        for i in range(4):
            await relabel(sessions, key, f"label {i}")
        event = await next_durable(reader)
    assert event.cursor == head + 4, "only events after the requested cursor are sent"


async def test_watch_chat_errors(sessions: Sessions, chat: Chat) -> None:
    await expect_error(
        read_to_end(chat.WatchChat(cpb.WatchChatRequest(session_key="never-created"))),
        Code.NOT_FOUND,
        "SESSION_NOT_FOUND",
    )
    await create_session(sessions, key="exists")
    await expect_error(
        read_to_end(chat.WatchChat(cpb.WatchChatRequest(session_key="exists", after_cursor=-1))),
        Code.INVALID_ARGUMENT,
    )


async def test_cursor_keeps_counting_across_reset_and_recreate(
    sessions: Sessions, chat: Chat
) -> None:
    key = "agent:main:cycle"
    await create_session(sessions, key="cycle")
    first = (await chat_to_end(chat, key, "one"))[-1].cursor

    await sessions.ResetSession(spb.ResetSessionRequest(key=key))
    async with watch(chat, key, after_cursor=first) as reader:
        reset = await next_durable(reader)
    assert reset.cursor == first + 1
    assert reset.session_changed.reason == events_pb2.SESSION_EVENT_REASON_RESET
    after_reset = await chat_to_end(chat, key, "two")
    assert after_reset[0].cursor > reset.cursor
    second = after_reset[-1].cursor

    await sessions.DeleteSession(spb.DeleteSessionRequest(key=key))
    await create_session(sessions, key="cycle")
    recreated = await chat_to_end(chat, key, "three")
    third = recreated[-1].cursor
    assert recreated[0].cursor > second, "cursors must not restart after delete/re-create"

    async with watch(chat, key, after_cursor=second) as reader:
        items = await reader.read_until(lambda r: r.event.cursor == third and is_durable(r.event))
    durable = [r.event for r in items if is_durable(r.event)]
    assert [e.cursor for e in durable] == list(range(second + 1, third + 1))
    reasons = [e.session_changed.reason for e in durable if body_of(e) == "session_changed"]
    assert events_pb2.SESSION_EVENT_REASON_CREATE in reasons
    assert durable[-1].final.message.text == "three"


async def test_replay_longer_than_one_batch(sessions: Sessions, chat: Chat) -> None:
    key = "agent:main:long-history"
    await create_session(sessions, key="long-history")
    await gather_in_batches(
        [lambda i=i: relabel(sessions, key, f"label {i}") for i in range(600)], batch=100
    )
    head = (await chat_to_end(chat, key, "the end"))[-1].cursor
    assert head > 600
    async with watch(chat, key, after_cursor=7) as reader:
        items = await reader.read_until(
            lambda r: r.event.cursor == head and is_durable(r.event), timeout=20
        )
    durable = [r.event.cursor for r in items if is_durable(r.event)]
    assert durable == list(range(8, head + 1))
