"""Checkpoints: BranchCheckpoint into a new session, RestoreCheckpoint of the session itself."""

from __future__ import annotations

import re

import grpc
import pytest
from helpers import create_session, expect_error
from maintenance_helpers import (
    LONG_TEXT,
    archives_of,
    checkpoint_ids,
    converse,
    finish,
    get_session,
    inject_texts,
    messages_of,
    role_texts,
    send,
    session_events_until,
    transcript,
    wait_for_reply_text,
)
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, events_pb2, resources_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

Sessions = session_service_pb2_grpc.SessionServiceStub
Chat = chat_service_pb2_grpc.ChatServiceStub
Code = grpc.StatusCode
R = resources_pb2
DASHBOARD_KEY = re.compile(
    r"^agent:main:dashboard:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


async def checkpointed(
    sessions: Sessions, chat: Chat, label: str = ""
) -> tuple[R.Session, R.Checkpoint]:
    """A session compacted once (max_lines=2) and then written to again, and its checkpoint
    (with the six-entry transcript from before the compaction)."""
    source = await create_session(sessions, label=label)
    await converse(chat, source.key, ["first question", "second question"])
    await inject_texts(chat, source.key, ["note one", "note two"])
    result = await sessions.CompactSession(spb.CompactSessionRequest(key=source.key, max_lines=2))
    assert result.compacted
    await inject_texts(chat, source.key, ["after the compaction"])
    checkpoint = (
        await sessions.GetCheckpoint(
            spb.GetCheckpointRequest(key=source.key, checkpoint_id=result.checkpoint_id)
        )
    ).checkpoint
    assert len(checkpoint.messages) == 6
    return await get_session(sessions, source.key), checkpoint


async def branch(sessions: Sessions, key: str, checkpoint_id: str, label: str = "") -> R.Session:
    response = await sessions.BranchCheckpoint(
        spb.BranchCheckpointRequest(key=key, checkpoint_id=checkpoint_id, label=label)
    )
    session: R.Session = response.session
    return session


async def test_branch_is_a_new_session_holding_the_snapshot(sessions: Sessions, chat: Chat) -> None:
    source, checkpoint = await checkpointed(sessions, chat, label="Research")
    source_messages = await messages_of(sessions, source.key)

    made = await branch(sessions, source.key, checkpoint.checkpoint_id)

    assert DASHBOARD_KEY.match(made.key), made.key
    assert made.key != source.key
    assert made.label == "Research (checkpoint)"
    assert made.parent_session_key == source.key
    assert made.agent_id == "main"
    assert made.session_id not in {source.session_id, checkpoint.session_id}
    assert made.message_count == len(checkpoint.messages)
    assert made.compaction_count == 0
    assert not made.has_active_run
    got, page = await transcript(sessions, made.key)
    assert page.session_id == made.session_id
    assert role_texts(got) == role_texts(list(checkpoint.messages))
    assert [m.seq for m in got] == list(range(1, len(got) + 1))
    assert await checkpoint_ids(sessions, made.key) == []
    fetched = await get_session(sessions, made.key)
    assert (fetched.label, fetched.parent_session_key) == (made.label, source.key)
    children = await sessions.ListSessions(spb.ListSessionsRequest(parent_session_key=source.key))
    assert [s.key for s in children.sessions] == [made.key]

    # The source is untouched.
    after = await get_session(sessions, source.key)
    assert after.session_id == source.session_id
    assert after.message_count == source.message_count == len(source_messages)
    assert role_texts(await messages_of(sessions, source.key)) == role_texts(source_messages)
    assert await checkpoint_ids(sessions, source.key) == [checkpoint.checkpoint_id]

    # The branch is a working session continuing from the snapshot.
    run = await finish(chat, (await send(chat, made.key, "continue the branch")).run_id)
    assert run.status == R.RUN_STATUS_DONE
    assert [m.text for m in (await messages_of(sessions, made.key))[-2:]] == [
        "continue the branch",
        "continue the branch",
    ]
    assert (await get_session(sessions, source.key)).message_count == source.message_count

    events = await session_events_until(
        sessions, made.key, lambda e: e.reason == events_pb2.SESSION_EVENT_REASON_CHECKPOINT_BRANCH
    )
    assert events[-1].session.parent_session_key == source.key


async def test_branch_labels_get_a_number_when_taken(sessions: Sessions, chat: Chat) -> None:
    source, checkpoint = await checkpointed(sessions, chat, label="Plan")
    labels = [
        (await branch(sessions, source.key, checkpoint.checkpoint_id)).label for _ in range(3)
    ]
    assert labels == ["Plan (checkpoint)", "Plan (checkpoint) (2)", "Plan (checkpoint) (3)"]

    unlabelled, other = await checkpointed(sessions, chat)
    labels = [(await branch(sessions, unlabelled.key, other.checkpoint_id)).label for _ in range(2)]
    assert labels == ["Checkpoint branch", "Checkpoint branch (2)"]


async def test_branch_with_an_explicit_label(sessions: Sessions, chat: Chat) -> None:
    source, checkpoint = await checkpointed(sessions, chat, label="Origin")
    made = await branch(sessions, source.key, checkpoint.checkpoint_id, label="  My branch  ")
    assert made.label == "My branch"
    await expect_error(
        branch(sessions, source.key, checkpoint.checkpoint_id, label="My branch"),
        Code.ALREADY_EXISTS,
        "LABEL_IN_USE",
    )
    await expect_error(
        branch(sessions, source.key, checkpoint.checkpoint_id, label="Origin"),
        Code.ALREADY_EXISTS,
        "LABEL_IN_USE",
    )
    children = await sessions.ListSessions(spb.ListSessionsRequest(parent_session_key=source.key))
    assert [s.key for s in children.sessions] == [made.key]


async def test_branch_does_not_stop_the_sources_run(sessions: Sessions, chat: Chat) -> None:
    source, checkpoint = await checkpointed(sessions, chat, label="Busy")
    run_id = (await send(chat, source.key, LONG_TEXT)).run_id
    await wait_for_reply_text(chat, source.key, run_id)

    made = await branch(sessions, source.key, checkpoint.checkpoint_id)

    assert made.message_count == len(checkpoint.messages)
    assert not made.has_active_run
    current = await get_session(sessions, source.key)
    assert current.has_active_run
    assert current.active_run_id == run_id
    assert current.session_id == source.session_id
    running = (await chat.GetRun(cpb.GetRunRequest(run_id=run_id))).run
    assert running.status == R.RUN_STATUS_RUNNING
    # Stopping it now ends it as `aborted`: the branch did not interrupt it.
    stopped = await chat.Abort(cpb.AbortRequest(session_key=source.key))
    assert stopped.aborted_run_id == run_id
    run = await finish(chat, run_id)
    assert run.stop_reason == "aborted"
    assert role_texts(await messages_of(sessions, made.key)) == role_texts(
        list(checkpoint.messages)
    )


async def test_restore_puts_the_snapshot_back_under_the_same_key(
    sessions: Sessions, chat: Chat
) -> None:
    source, checkpoint = await checkpointed(sessions, chat, label="Restorable")
    replaced = await messages_of(sessions, source.key)
    assert len(replaced) == 3

    response = await sessions.RestoreCheckpoint(
        spb.RestoreCheckpointRequest(key=source.key, checkpoint_id=checkpoint.checkpoint_id)
    )

    restored = response.session
    assert restored.key == source.key
    assert restored.label == "Restorable"
    assert response.previous_session_id == source.session_id
    assert restored.session_id not in {source.session_id, checkpoint.session_id}
    assert restored.message_count == len(checkpoint.messages)
    got, page = await transcript(sessions, source.key)
    assert page.session_id == restored.session_id
    assert role_texts(got) == role_texts(list(checkpoint.messages))
    assert [m.seq for m in got] == list(range(1, len(got) + 1))
    assert (await get_session(sessions, source.key)).session_id == restored.session_id
    # Checkpoints are kept.
    assert await checkpoint_ids(sessions, source.key) == [checkpoint.checkpoint_id]

    # The replaced transcript is archived (reason restore) and readable.
    archives = {a.session_id: a for a in await archives_of(sessions, source.key)}
    assert archives[source.session_id].reason == "restore"
    assert archives[source.session_id].message_count == len(replaced)
    old, old_page = await transcript(sessions, session_id=source.session_id)
    assert old_page.archived
    assert role_texts(old) == role_texts(replaced)
    events = await session_events_until(
        sessions,
        source.key,
        lambda e: e.reason == events_pb2.SESSION_EVENT_REASON_CHECKPOINT_RESTORE,
    )
    assert events[-1].session.session_id == restored.session_id

    # The same checkpoint restores again, onto yet another transcript.
    again = await sessions.RestoreCheckpoint(
        spb.RestoreCheckpointRequest(key=source.key, checkpoint_id=checkpoint.checkpoint_id)
    )
    assert again.previous_session_id == restored.session_id
    assert again.session.session_id != restored.session_id
    assert role_texts(await messages_of(sessions, source.key)) == role_texts(
        list(checkpoint.messages)
    )
    reasons = {a.session_id: a.reason for a in await archives_of(sessions, source.key)}
    assert reasons[restored.session_id] == "restore"


async def test_restore_stops_the_active_run_and_archives_its_partial_reply(
    sessions: Sessions, chat: Chat
) -> None:
    source, checkpoint = await checkpointed(sessions, chat)
    run_id = (await send(chat, source.key, LONG_TEXT)).run_id
    await wait_for_reply_text(chat, source.key, run_id)

    response = await sessions.RestoreCheckpoint(
        spb.RestoreCheckpointRequest(key=source.key, checkpoint_id=checkpoint.checkpoint_id)
    )

    run = (await chat.GetRun(cpb.GetRunRequest(run_id=run_id))).run
    assert run.status == R.RUN_STATUS_ABORTED
    assert run.stop_reason == "interrupted"
    assert not response.session.has_active_run
    assert not (await get_session(sessions, source.key)).has_active_run
    assert role_texts(await messages_of(sessions, source.key)) == role_texts(
        list(checkpoint.messages)
    )
    old = await messages_of(sessions, session_id=response.previous_session_id)
    partial = old[-1]
    assert partial.role == R.ROLE_ASSISTANT
    assert partial.run_id == run_id
    assert partial.stop_reason == "interrupted"
    assert partial.text.strip()
    assert LONG_TEXT.startswith(partial.text)
    assert old[-2].text == LONG_TEXT


async def test_a_queued_run_after_restore_answers_its_question(
    sessions: Sessions, chat: Chat
) -> None:
    source, checkpoint = await checkpointed(sessions, chat)
    active = await send(chat, source.key, LONG_TEXT)
    queued = await send(chat, source.key, "queued question during the restore")
    assert queued.status == cpb.SEND_STATUS_QUEUED
    await wait_for_reply_text(chat, source.key, active.run_id)

    await sessions.RestoreCheckpoint(
        spb.RestoreCheckpointRequest(key=source.key, checkpoint_id=checkpoint.checkpoint_id)
    )

    run = await finish(chat, queued.run_id)
    after = await messages_of(sessions, source.key)
    if run.status == R.RUN_STATUS_ABORTED:
        # Cancelling the queue is fine; the restored transcript is then the snapshot.
        assert role_texts(after) == role_texts(list(checkpoint.messages))
        return
    # A queued run that goes on must still see and answer its question.
    assert run.status == R.RUN_STATUS_DONE
    assert run.session_id == (await get_session(sessions, source.key)).session_id
    question = {m.seq: m for m in after}.get(run.message_seq)
    assert question is not None, (run.message_seq, role_texts(after))
    assert role_texts([question]) == [(R.ROLE_USER, "queued question during the restore")]
    assert role_texts(after[-1:]) == [(R.ROLE_ASSISTANT, "queued question during the restore")]


@pytest.mark.parametrize("rpc", ["GetCheckpoint", "BranchCheckpoint", "RestoreCheckpoint"])
async def test_checkpoint_of_another_session_is_not_found(
    sessions: Sessions, chat: Chat, rpc: str
) -> None:
    owner, checkpoint = await checkpointed(sessions, chat, label="Owner")
    other = await create_session(sessions, label="Other")
    await inject_texts(chat, other.key, ["other entry"])
    request_type = {
        "GetCheckpoint": spb.GetCheckpointRequest,
        "BranchCheckpoint": spb.BranchCheckpointRequest,
        "RestoreCheckpoint": spb.RestoreCheckpointRequest,
    }[rpc]

    await expect_error(
        getattr(sessions, rpc)(request_type(key=other.key, checkpoint_id=checkpoint.checkpoint_id)),
        Code.NOT_FOUND,
        "CHECKPOINT_NOT_FOUND",
    )

    after = await get_session(sessions, other.key)
    assert after.session_id == other.session_id
    assert [m.text for m in await messages_of(sessions, other.key)] == ["other entry"]
    assert (await get_session(sessions, owner.key)).session_id == owner.session_id
    listed = await sessions.ListSessions(spb.ListSessionsRequest())
    assert {s.key for s in listed.sessions} == {owner.key, other.key}
