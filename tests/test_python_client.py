"""The ergonomic Python client: sessions, chat, and a watch that resumes after a restart."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace

import pytest
from conftest import ServerHandle
from sessiond.client import Client, reply_text
from sessiond.config import Config
from sessiond.v1 import events_pb2, resources_pb2


@pytest.fixture
def config(config: Config) -> Config:
    return replace(config, echo_delay_ms=5, echo_chunk_chars=3)


async def test_sessions_and_chat(server: ServerHandle) -> None:
    async with Client(server.target) as client:
        session = await client.sessions.create(label="ergonomic")
        assert session.key.startswith("agent:main:dashboard:")
        events = [e async for e in client.chat(session.key, "héllo wörld")]
        assert events[-1].final.message.text == "héllo wörld"
        assert reply_text(events) == "héllo wörld"
        updated = await client.sessions.update(session.key, label="renamed")
        assert updated.label == "renamed"
        assert [s.key for s in await client.sessions.list_all(page_size=1)] == [session.key]
        texts = [m.text for m in await client.sessions.messages(session.key)]
        assert texts == ["héllo wörld", "héllo wörld"]
        reset = await client.sessions.reset(session.key)
        assert reset.previous_session_id != reset.session.session_id
        assert await client.sessions.delete(session.key)


async def test_attachment_bytes_come_by_their_own_call(server: ServerHandle) -> None:
    image = resources_pb2.Attachment(mime_type="image/png", data=b"\x89PNG" + b"\x07" * 99)
    async with Client(server.target) as client:
        await client.sessions.create("pictures")
        sent = await client.send("pictures", "see", attachments=[image])
        await client.wait(sent.run_id, timeout_ms=10_000)
        listed = (await client.sessions.messages("pictures"))[sent.message_seq - 1]
        (meta,) = listed.attachments
        assert (meta.omitted, meta.size_bytes, meta.data) == (True, 103, b"")
        got = await client.sessions.attachment(listed.session_id, listed.seq, meta.index)
        assert got.data == image.data


async def test_watch_resumes_from_its_cursor_across_a_server_restart(
    server: ServerHandle,
) -> None:
    async with Client(server.target, reconnect_delay_s=0.05) as client:
        await client.sessions.create("resume")
        first = await client.send("resume", "before the restart")
        await client.wait(first.run_id, timeout_ms=10_000)
        seen: list[events_pb2.ChatEvent] = []
        finals = 0
        restarted = False
        watch = client.watch("resume")
        async with asyncio.timeout(30):
            async for event in watch:
                seen.append(event)
                if not event.HasField("final"):
                    continue
                finals += 1
                if not restarted:
                    await server.restart()
                    restarted = True
                    await client.send("resume", "after the restart")
                if finals == 2:
                    break
        await watch.aclose()
    durable = [e.cursor for e in seen if e.WhichOneof("body") not in ("delta", "heartbeat")]
    assert durable == sorted(set(durable)), "durable events are neither lost nor doubled"
    assert durable == list(range(1, len(durable) + 1))
    texts = [e.final.message.text for e in seen if e.HasField("final")]
    assert texts == ["before the restart", "after the restart"]


async def test_usage_and_budgets(server: ServerHandle) -> None:
    async with Client(server.target) as client:
        session = await client.sessions.create("metered")
        [_ async for _ in client.chat(session.key, "count me")]
        now = dt.datetime.now(dt.UTC)
        usage = await client.sessions.usage(now - dt.timedelta(hours=1), now, ["agent"])
        assert [(r.agent_id, r.runs) for r in usage.rows] == [("main", 1)]
        assert usage.rows[0].usage.total_tokens > 0
        listed, tenant = await client.sessions.list_with_tenant()
        assert (tenant, [s.key for s in listed]) == ("default", [session.key])
        limited = await client.sessions.update(session.key, budget_tokens=1)
        assert limited.budget_tokens == 1
        with pytest.raises(ValueError, match="timezone-aware"):
            await client.sessions.usage(dt.datetime(2026, 1, 1))
