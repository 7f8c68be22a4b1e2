"""Helpers of the compaction, checkpoint, retention and plugin-state tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpers import StreamReader
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import events_pb2, resources_pb2
from sessiond.v1 import session_service_pb2 as spb

Message = resources_pb2.Message

# About 10 s of echo reply with the default settings (8 characters every 20 ms): a run that
# is still in flight whenever a test looks at it.
LONG_TEXT = " ".join(f"w{i:04d}" for i in range(800))


def role_texts(messages: list[Message]) -> list[tuple[int, str]]:
    """(role, text) of each entry, in order."""
    return [(m.role, m.text) for m in messages]


async def transcript(
    sessions: Any, key: str = "", session_id: str = ""
) -> tuple[list[Message], spb.ListMessagesResponse]:
    """A whole transcript (current by key, or any by session_id) and the first response."""
    response = await sessions.ListMessages(
        spb.ListMessagesRequest(key=key, session_id=session_id, page_size=1000)
    )
    assert not response.next_page_token, "transcript longer than one page"
    return list(response.messages), response


async def messages_of(sessions: Any, key: str = "", session_id: str = "") -> list[Message]:
    """The entries of a whole transcript, ascending seq."""
    messages, _ = await transcript(sessions, key, session_id)
    return messages


async def finish(chat: Any, run_id: str, timeout: float = 15.0) -> resources_pb2.Run:  # noqa: ASYNC109
    """WaitRun until `run_id` has ended; fails when it has not within `timeout` seconds."""
    response = await chat.WaitRun(
        cpb.WaitRunRequest(run_id=run_id, timeout_ms=int(timeout * 1000)), timeout=timeout + 5
    )
    assert response.done, f"run {run_id} did not end within {timeout}s: {response.run}"
    run: resources_pb2.Run = response.run
    return run


async def send(chat: Any, key: str, text: str) -> cpb.SendResponse:
    response: cpb.SendResponse = await chat.Send(cpb.SendRequest(session_key=key, text=text))
    return response


async def converse(chat: Any, key: str, texts: list[str]) -> None:
    """One completed echo run per text: a USER and an ASSISTANT entry each."""
    for text in texts:
        run = await finish(chat, (await send(chat, key, text)).run_id)
        assert run.status == resources_pb2.RUN_STATUS_DONE, run


async def inject_texts(chat: Any, key: str, texts: list[str]) -> list[Message]:
    """Appends one ASSISTANT entry per text without a run."""
    return [
        (await chat.InjectMessage(cpb.InjectMessageRequest(session_key=key, text=t))).message
        for t in texts
    ]


def watch_chat(chat: Any, key: str, **fields: Any) -> StreamReader[cpb.WatchChatResponse]:
    return StreamReader(chat.WatchChat(cpb.WatchChatRequest(session_key=key, **fields)))


def watch_sessions(sessions: Any, *keys: str) -> StreamReader[spb.WatchSessionsResponse]:
    """Every retained SessionEvent of `keys` (replayed from the start), then live ones."""
    return StreamReader(sessions.WatchSessions(spb.WatchSessionsRequest(keys=list(keys))))


async def chat_events_until(
    chat: Any, key: str, predicate: Callable[[events_pb2.ChatEvent], bool]
) -> list[events_pb2.ChatEvent]:
    """Replays the session's chat feed from the start up to the first event matching."""
    async with watch_chat(chat, key) as reader:
        responses = await reader.read_until(lambda r: predicate(r.event), timeout=10)
    return [r.event for r in responses]


async def session_events_until(
    sessions: Any, key: str, predicate: Callable[[events_pb2.SessionEvent], bool]
) -> list[events_pb2.SessionEvent]:
    """Replays the SessionEvents of `key` from the start up to the first one matching."""
    async with watch_sessions(sessions, key) as reader:
        responses = await reader.read_until(lambda r: predicate(r.event), timeout=10)
    return [r.event for r in responses]


async def wait_for_reply_text(chat: Any, key: str, run_id: str) -> None:
    """Returns once `run_id` has streamed some reply text (its partial reply is not blank)."""
    async with watch_chat(chat, key) as reader:
        await reader.read_until(
            lambda r: (
                r.event.run_id == run_id
                and r.event.WhichOneof("body") == "delta"
                and bool(r.event.delta.text.strip())
            ),
            timeout=10,
        )


async def get_session(sessions: Any, key: str) -> resources_pb2.Session:
    session: resources_pb2.Session = (
        await sessions.GetSession(spb.GetSessionRequest(key=key))
    ).session
    return session


async def checkpoint_ids(sessions: Any, key: str) -> list[str]:
    """The session's checkpoint ids as ListCheckpoints returns them (newest first)."""
    response = await sessions.ListCheckpoints(spb.ListCheckpointsRequest(key=key))
    return [c.checkpoint_id for c in response.checkpoints]


async def archives_of(sessions: Any, key: str) -> list[resources_pb2.Archive]:
    response = await sessions.ListArchives(spb.ListArchivesRequest(key=key, page_size=500))
    assert not response.next_page_token
    return list(response.archives)
