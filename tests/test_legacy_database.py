"""A database written by an earlier sessiond still reads back identically.

`data/sessiond-main-76d0a43.db` was written by sessiond at main 76d0a43 (before stored
events were typed and versioned): sessions with sends, a silent reply, an injected message,
plugin state, a compaction, a checkpoint branch and restore, a reset, tool calls, a rate
limit error, an abort with a queued run, a steer, a deletion, a cleanup, and a run left
RUNNING as a crash leaves it. `data/replay-main-76d0a43.json` is what clients read of it
through that version's server: every session's WatchChat from cursor 0, WatchSessions from
0, ListSessions, ListRuns and every transcript. Today's server must read the same.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from sessiond.config import AgentConfig, Config
from sessiond.server import start_server
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

DATA = Path(__file__).parent / "data"
CRASHED = "agent:gpt:crash"
"""Its run was left RUNNING: the server closes it at start, so its later state is new."""


def _heads(db: Path) -> tuple[dict[str, int], int]:
    """The last cursor of each key and the last global position, as written."""
    conn = sqlite3.connect(db)
    try:
        per_key = dict(
            conn.execute("SELECT session_key, MAX(cursor) FROM events GROUP BY session_key")
        )
        top = conn.execute("SELECT MAX(global_seq) FROM events").fetchone()[0]
    finally:
        conn.close()
    return per_key, top


def _json(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


async def _chat_events(chat: Any, key: str, head: int) -> list[dict[str, Any]]:
    stream = chat.WatchChat(cpb.WatchChatRequest(session_key=key), timeout=10)
    events: list[dict[str, Any]] = []
    async for response in stream:
        event = response.event
        if event.WhichOneof("body") in ("heartbeat", "delta"):
            continue
        events.append(_json(event))
        if event.cursor >= head:
            break
    stream.cancel()
    return events


async def _feed(sessions: Any, top: int) -> list[dict[str, Any]]:
    stream = sessions.WatchSessions(spb.WatchSessionsRequest(), timeout=10)
    events: list[dict[str, Any]] = []
    async for response in stream:
        events.append(_json(response.event))
        if response.event.cursor >= top:
            break
    stream.cancel()
    return events


async def _read_back(target: str, per_key: dict[str, int], top: int) -> dict[str, Any]:
    out: dict[str, Any] = {"chat": {}, "runs": {}, "transcripts": {}}
    async with grpc.aio.insecure_channel(target) as channel:
        sessions = session_service_pb2_grpc.SessionServiceStub(channel)
        chat = chat_service_pb2_grpc.ChatServiceStub(channel)
        for key, head in sorted(per_key.items()):
            out["chat"][key] = await _chat_events(chat, key, head)
        out["sessions_feed"] = await _feed(sessions, top)
        listed = await sessions.ListSessions(spb.ListSessionsRequest(page_size=500))
        live = [s for s in listed.sessions if s.key in per_key and s.key != CRASHED]
        out["sessions"] = sorted((_json(s) for s in live), key=lambda s: s["key"])
        for key in sorted(per_key):
            try:
                runs = await chat.ListRuns(cpb.ListRunsRequest(session_key=key, page_size=500))
            except grpc.aio.AioRpcError:
                continue  # deleted or cleaned up
            out["runs"][key] = [_json(r) for r in runs.runs if r.session_key != CRASHED]
        archives = await sessions.ListArchives(spb.ListArchivesRequest(page_size=500))
        ids = {a.session_id for a in archives.archives} | {s.session_id for s in listed.sessions}
        for session_id in sorted(ids):
            page = await sessions.ListMessages(
                spb.ListMessagesRequest(session_id=session_id, page_size=1000, include_silent=True)
            )
            out["transcripts"][session_id] = [_json(m) for m in page.messages]
    return out


async def test_a_database_written_by_main_replays_identically(tmp_path: Path) -> None:
    db = tmp_path / "sessiond.db"
    shutil.copy(DATA / "sessiond-main-76d0a43.db", db)
    per_key, top = _heads(db)
    config = Config(
        host="127.0.0.1",
        port=0,
        db_path=db,
        heartbeat_ms=200,
        agents={"main": AgentConfig(), "gpt": AgentConfig()},
    )
    running = await start_server(config)
    try:
        got = await _read_back(f"127.0.0.1:{running.port}", per_key, top)
    finally:
        await running.stop(1)
    expected = json.loads((DATA / "replay-main-76d0a43.json").read_text())
    assert got["chat"] == expected["chat"]
    assert got["sessions_feed"] == expected["sessions_feed"]
    assert got["sessions"] == expected["sessions"]
    assert got["runs"] == expected["runs"]
    assert got["transcripts"] == expected["transcripts"]
    assert sum(len(events) for events in got["chat"].values()) == 50
