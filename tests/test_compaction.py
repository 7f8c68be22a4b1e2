"""CompactSession: max_lines and summarising strategies, checkpoints, events, active runs."""

from __future__ import annotations

import itertools

import grpc
import pytest
from helpers import create_session, expect_error, has_violation
from maintenance_helpers import (
    LONG_TEXT,
    archives_of,
    chat_events_until,
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
COMPACT = events_pb2.SESSION_EVENT_REASON_COMPACT

ROLE_NAMES = {R.ROLE_USER: "user", R.ROLE_ASSISTANT: "assistant", R.ROLE_SYSTEM: "system"}
TEXTS = [
    "alpha bravo charlie delta with a few more words to summarise away",
    "echo foxtrot golf hotel india and several further words after them",
    "juliett kilo lima, then a tail that the summary leaves out entirely",
    "mike november oscar papa quebec romeo sierra tango uniform victor",
]


def expected_summary(older: list[R.Message]) -> str:
    """The echo backend's deterministic summary of `older`."""
    parts = [
        f"{ROLE_NAMES[m.role]}: {' '.join(m.text.split()[:3])}" for m in older if m.text.strip()
    ]
    return "Summary: " + " | ".join(parts)


async def compact(sessions: Sessions, key: str, **fields: int) -> spb.CompactSessionResponse:
    response: spb.CompactSessionResponse = await sessions.CompactSession(
        spb.CompactSessionRequest(key=key, **fields)
    )
    return response


async def filled_session(sessions: Sessions, chat: Chat, label: str = "") -> R.Session:
    """A session with 10 entries: four echo conversations, then two injected replies."""
    created = await create_session(sessions, label=label)
    await converse(chat, created.key, TEXTS)
    await inject_texts(chat, created.key, ["injected one two three four", "injected last"])
    return await get_session(sessions, created.key)


def is_compaction(event: events_pb2.ChatEvent) -> bool:
    return event.WhichOneof("body") == "compaction"


async def test_max_lines_keeps_the_tail_and_checkpoints_the_whole_transcript(
    sessions: Sessions, chat: Chat
) -> None:
    source = await filled_session(sessions, chat)
    before, _ = await transcript(sessions, source.key)
    assert len(before) == 10

    result = await compact(sessions, source.key, max_lines=3)

    assert result.compacted
    assert not result.reason
    assert result.checkpoint_id
    assert result.kept == 3
    assert 0 < result.tokens_after < result.tokens_before
    after, page = await transcript(sessions, source.key)
    new_id = result.session.session_id
    assert new_id
    assert new_id != source.session_id
    assert page.session_id == new_id
    assert not page.archived
    # max_lines keeps exactly the last entries (no summary), renumbered from 1.
    assert [m.seq for m in after] == [1, 2, 3]
    assert role_texts(after) == role_texts(before[-3:])
    assert all(m.session_id == new_id for m in after)
    session = await get_session(sessions, source.key)
    assert session.session_id == new_id
    assert session.message_count == 3
    assert session.compaction_count == source.compaction_count + 1
    assert session.usage.context_tokens == result.tokens_after

    # The checkpoint holds the transcript as it was before.
    got = (
        await sessions.GetCheckpoint(
            spb.GetCheckpointRequest(key=source.key, checkpoint_id=result.checkpoint_id)
        )
    ).checkpoint
    assert got.checkpoint_id == result.checkpoint_id
    assert got.session_key == source.key
    assert got.reason == "compact"
    assert got.message_count_before == len(before) == len(got.messages)
    assert (got.tokens_before, got.tokens_after) == (result.tokens_before, result.tokens_after)
    assert role_texts(list(got.messages)) == role_texts(before)
    assert [m.seq for m in got.messages] == [m.seq for m in before]
    assert await checkpoint_ids(sessions, source.key) == [result.checkpoint_id]

    # The old transcript is archived (reason compact) and stays readable.
    archived = [a for a in await archives_of(sessions, source.key) if a.reason == "compact"]
    assert [a.session_id for a in archived] == [source.session_id]
    assert archived[0].message_count == len(before)
    old, old_page = await transcript(sessions, session_id=source.session_id)
    assert old_page.archived
    assert role_texts(old) == role_texts(before)


async def test_max_lines_compaction_events_carry_the_replaced_range(
    sessions: Sessions, chat: Chat
) -> None:
    source = await filled_session(sessions, chat)
    result = await compact(sessions, source.key, max_lines=4)

    events = await chat_events_until(chat, source.key, is_compaction)
    body = events[-1].compaction
    assert events[-1].session_key == source.key
    assert events[-1].cursor == events[-2].cursor + 1
    assert body.checkpoint_id == result.checkpoint_id
    assert (body.replaced_from_seq, body.replaced_to_seq) == (1, 6)
    assert body.summary == ""
    assert (body.tokens_before, body.tokens_after) == (result.tokens_before, result.tokens_after)
    assert body.session_id == result.session.session_id
    assert not body.automatic

    changes = await session_events_until(sessions, source.key, lambda e: e.reason == COMPACT)
    change = changes[-1]
    assert change.session.session_id == result.session.session_id
    assert change.session.compaction_count == 1
    assert change.session.message_count == 4
    assert change.session_cursor == events[-1].cursor


@pytest.mark.parametrize(("keep_recent", "kept"), [(None, 6), (2, 2), (0, 0)])
async def test_summarising_compaction_starts_with_a_system_summary(
    sessions: Sessions, chat: Chat, keep_recent: int | None, kept: int
) -> None:
    source = await filled_session(sessions, chat)
    before = await messages_of(sessions, source.key)
    fields = {} if keep_recent is None else {"keep_recent": keep_recent}

    result = await compact(sessions, source.key, **fields)

    assert result.compacted
    assert result.kept == kept
    older = before[: len(before) - kept]
    summary = expected_summary(older)
    after = await messages_of(sessions, source.key)
    assert [m.seq for m in after] == list(range(1, kept + 2))
    head = after[0]
    assert head.role == R.ROLE_SYSTEM
    assert head.label == "summary"
    assert head.text == summary
    assert role_texts(after[1:]) == role_texts(before[len(before) - kept :])
    assert result.session.message_count == kept + 1
    assert 0 < result.tokens_after < result.tokens_before

    got = (
        await sessions.GetCheckpoint(
            spb.GetCheckpointRequest(key=source.key, checkpoint_id=result.checkpoint_id)
        )
    ).checkpoint
    assert role_texts(list(got.messages)) == role_texts(before)

    body = (await chat_events_until(chat, source.key, is_compaction))[-1].compaction
    assert body.summary == summary
    assert (body.replaced_from_seq, body.replaced_to_seq) == (1, len(older))
    assert (body.tokens_before, body.tokens_after) == (result.tokens_before, result.tokens_after)
    assert body.checkpoint_id == result.checkpoint_id


async def test_summary_is_a_new_generation_that_can_be_compacted_again(
    sessions: Sessions, chat: Chat
) -> None:
    source = await filled_session(sessions, chat)
    first = await compact(sessions, source.key, keep_recent=2)
    await inject_texts(chat, source.key, ["after one", "after two", "after three"])
    second = await compact(sessions, source.key, keep_recent=1)

    assert second.compacted
    assert second.session.compaction_count == 2
    assert second.session.session_id not in {source.session_id, first.session.session_id}
    after = await messages_of(sessions, source.key)
    # The earlier summary is one of the summarised messages now.
    assert after[0].text.startswith("Summary: system: Summary: user: alpha")
    assert role_texts(after[1:]) == [(R.ROLE_ASSISTANT, "after three")]
    assert await checkpoint_ids(sessions, source.key) == [second.checkpoint_id, first.checkpoint_id]


async def test_compaction_stops_the_active_run_and_keeps_its_partial_reply(
    sessions: Sessions, chat: Chat
) -> None:
    source = await create_session(sessions)
    await converse(chat, source.key, ["first question here"])
    run_id = (await send(chat, source.key, LONG_TEXT)).run_id
    await wait_for_reply_text(chat, source.key, run_id)

    result = await compact(sessions, source.key, max_lines=2)

    assert result.compacted
    run = (await chat.GetRun(cpb.GetRunRequest(run_id=run_id))).run
    assert run.status == R.RUN_STATUS_ABORTED
    assert run.stop_reason == "interrupted"
    session = await get_session(sessions, source.key)
    assert not session.has_active_run
    assert not session.active_run_id

    # The partial reply was saved before the checkpoint was taken.
    got = (
        await sessions.GetCheckpoint(
            spb.GetCheckpointRequest(key=source.key, checkpoint_id=result.checkpoint_id)
        )
    ).checkpoint
    assert [m.role for m in got.messages] == [R.ROLE_USER, R.ROLE_ASSISTANT] * 2
    partial = got.messages[-1]
    assert partial.run_id == run_id
    assert partial.stop_reason == "interrupted"
    assert partial.text.strip()
    assert LONG_TEXT.startswith(partial.text)
    assert len(partial.text) < len(LONG_TEXT)
    assert got.messages[-2].text == LONG_TEXT
    # ...and is the last entry of the compacted transcript too.
    after = await messages_of(sessions, source.key)
    assert role_texts(after) == role_texts(list(got.messages[-2:]))

    # The feed shows the run's end (interrupted) before the compaction.
    events = await chat_events_until(chat, source.key, is_compaction)
    ends = [e for e in events if e.run_id == run_id and e.WhichOneof("body") == "aborted"]
    assert len(ends) == 1
    assert ends[0].aborted.stop_reason == "interrupted"
    assert ends[0].aborted.partial_message_seq == partial.seq
    assert events[-1].compaction.replaced_to_seq == 2


async def test_queued_runs_continue_after_compaction(sessions: Sessions, chat: Chat) -> None:
    source = await create_session(sessions)
    active = await send(chat, source.key, LONG_TEXT)
    queued = await send(chat, source.key, "queued question after compaction")
    assert queued.status == cpb.SEND_STATUS_QUEUED
    await wait_for_reply_text(chat, source.key, active.run_id)

    # Entries before: 1 active question, 2 queued question, 3 partial reply; keep 2 and 3.
    result = await compact(sessions, source.key, max_lines=2)

    assert result.compacted
    first = (await chat.GetRun(cpb.GetRunRequest(run_id=active.run_id))).run
    assert first.status == R.RUN_STATUS_ABORTED
    assert first.stop_reason == "interrupted"
    run = await finish(chat, queued.run_id)
    assert run.status == R.RUN_STATUS_DONE
    assert run.stop_reason == "completed"
    session = await get_session(sessions, source.key)
    assert not session.has_active_run
    # The queued run wrote its reply to the new transcript generation.
    assert run.session_id == session.session_id == result.session.session_id
    after = await messages_of(sessions, source.key)
    assert [m.seq for m in after] == list(range(1, len(after) + 1))
    assert after[-1].role == R.ROLE_ASSISTANT
    assert after[-1].text == "queued question after compaction"
    assert after[-1].run_id == queued.run_id
    assert session.message_count == len(after) == 3
    # The run's message_seq names its question in the transcript it answers in.
    question = {m.seq: m for m in after}.get(run.message_seq)
    assert question is not None, (run.message_seq, role_texts(after))
    assert role_texts([question]) == [(R.ROLE_USER, "queued question after compaction")]


async def test_queued_question_survives_compaction_past_it(sessions: Sessions, chat: Chat) -> None:
    source = await create_session(sessions)
    active = await send(chat, source.key, LONG_TEXT)
    queued = await send(chat, source.key, "a question still waiting in the queue")
    await wait_for_reply_text(chat, source.key, active.run_id)

    # max_lines=1 keeps only the partial reply, newer than the queued question.
    result = await compact(sessions, source.key, max_lines=1)

    assert result.compacted
    run = await finish(chat, queued.run_id)
    assert run.status == R.RUN_STATUS_DONE
    after = await messages_of(sessions, source.key)
    # The run still answers its question: echo replies with the user's text.
    assert (R.ROLE_USER, "a question still waiting in the queue") in role_texts(after)
    assert role_texts(after[-1:]) == [(R.ROLE_ASSISTANT, "a question still waiting in the queue")]


@pytest.mark.parametrize(
    "fields",
    [{"max_lines": 10}, {"max_lines": 20}, {}, {"keep_recent": 4}],
    ids=["max_lines_equal", "max_lines_more", "summary_default", "summary_keep_4"],
)
async def test_nothing_to_compact(sessions: Sessions, chat: Chat, fields: dict[str, int]) -> None:
    source = await create_session(sessions)
    count = 4 if "keep_recent" in fields else (6 if not fields else 10)
    await inject_texts(chat, source.key, [f"entry {i}" for i in range(count)])
    before = await get_session(sessions, source.key)

    result = await compact(sessions, source.key, **fields)

    assert not result.compacted
    assert result.reason
    assert not result.checkpoint_id
    assert result.session.session_id == before.session_id
    after = await get_session(sessions, source.key)
    assert after.session_id == before.session_id
    assert after.compaction_count == 0
    assert after.message_count == count
    assert await checkpoint_ids(sessions, source.key) == []
    assert [a for a in await archives_of(sessions, source.key) if a.reason == "compact"] == []


async def test_empty_session_has_nothing_to_compact(sessions: Sessions) -> None:
    source = await create_session(sessions)
    result = await compact(sessions, source.key, keep_recent=0)
    assert not result.compacted
    assert result.reason
    assert await checkpoint_ids(sessions, source.key) == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"max_lines": 0}, "max_lines"),
        ({"max_lines": -3}, "max_lines"),
        ({"keep_recent": -1}, "keep_recent"),
    ],
)
async def test_invalid_compaction_arguments(
    sessions: Sessions, chat: Chat, fields: dict[str, int], field: str
) -> None:
    source = await create_session(sessions)
    await inject_texts(chat, source.key, [f"entry {i}" for i in range(8)])
    err = await expect_error(compact(sessions, source.key, **fields), Code.INVALID_ARGUMENT)
    assert has_violation(err, field), err
    after = await get_session(sessions, source.key)
    assert after.session_id == source.session_id
    assert after.compaction_count == 0


async def test_compacting_a_missing_session_is_not_found(sessions: Sessions) -> None:
    await expect_error(
        compact(sessions, "agent:main:nobody", max_lines=1), Code.NOT_FOUND, "SESSION_NOT_FOUND"
    )
    await expect_error(compact(sessions, "nobody"), Code.NOT_FOUND, "SESSION_NOT_FOUND")
    await expect_error(
        sessions.ListCheckpoints(spb.ListCheckpointsRequest(key="nobody")),
        Code.NOT_FOUND,
        "SESSION_NOT_FOUND",
    )


async def test_26_compactions_keep_the_25_newest_checkpoints(
    sessions: Sessions, chat: Chat
) -> None:
    source = await create_session(sessions)
    await inject_texts(chat, source.key, ["start"])
    ids: list[str] = []
    session_ids: list[str] = []
    for i in range(26):
        await inject_texts(chat, source.key, [f"turn {i}"])
        session_ids.append((await get_session(sessions, source.key)).session_id)
        result = await compact(sessions, source.key, max_lines=1)
        assert result.compacted
        ids.append(result.checkpoint_id)
    assert len(set(ids)) == 26

    listed = (
        await sessions.ListCheckpoints(spb.ListCheckpointsRequest(key=source.key))
    ).checkpoints
    assert [c.checkpoint_id for c in listed] == ids[::-1][:25]
    assert not any(c.messages for c in listed)
    stamps = [(c.created_at.seconds, c.created_at.nanos) for c in listed]
    assert all(a >= b for a, b in itertools.pairwise(stamps))
    assert all(c.message_count_before == 2 and c.reason == "compact" for c in listed)
    session = await get_session(sessions, source.key)
    assert session.compaction_count == 26

    # The oldest checkpoint was dropped; the transcript it preserved is still an archive.
    await expect_error(
        sessions.GetCheckpoint(spb.GetCheckpointRequest(key=source.key, checkpoint_id=ids[0])),
        Code.NOT_FOUND,
        "CHECKPOINT_NOT_FOUND",
    )
    old, page = await transcript(sessions, session_id=session_ids[0])
    assert page.archived
    assert [m.text for m in old] == ["start", "turn 0"]
    newest = (
        await sessions.GetCheckpoint(
            spb.GetCheckpointRequest(key=source.key, checkpoint_id=ids[-1])
        )
    ).checkpoint
    assert [m.text for m in newest.messages] == ["turn 24", "turn 25"]
    assert newest.session_id == session_ids[-1]


@pytest.mark.parametrize("rpc", ["GetCheckpoint", "BranchCheckpoint", "RestoreCheckpoint"])
async def test_unknown_and_empty_checkpoint_ids(sessions: Sessions, chat: Chat, rpc: str) -> None:
    source = await create_session(sessions, label="checkpoint errors")
    await inject_texts(chat, source.key, ["a", "b", "c"])
    await compact(sessions, source.key, max_lines=1)
    request_type = {
        "GetCheckpoint": spb.GetCheckpointRequest,
        "BranchCheckpoint": spb.BranchCheckpointRequest,
        "RestoreCheckpoint": spb.RestoreCheckpointRequest,
    }[rpc]
    method = getattr(sessions, rpc)
    before = await get_session(sessions, source.key)

    await expect_error(
        method(request_type(key=source.key, checkpoint_id="no-such-checkpoint")),
        Code.NOT_FOUND,
        "CHECKPOINT_NOT_FOUND",
    )
    for empty in ("", "   "):
        err = await expect_error(
            method(request_type(key=source.key, checkpoint_id=empty)), Code.INVALID_ARGUMENT
        )
        assert has_violation(err, "checkpoint_id"), err

    after = await get_session(sessions, source.key)
    assert after.session_id == before.session_id
    assert after.message_count == before.message_count
    children = await sessions.ListSessions(spb.ListSessionsRequest(parent_session_key=source.key))
    assert list(children.sessions) == []
