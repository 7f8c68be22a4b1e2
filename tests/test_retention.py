"""CleanupSessions: dry runs, max_age, max_count per agent, protected sessions, archives."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2, field_mask_pb2
from helpers import assert_eventually, create_session, expect_error, has_violation
from maintenance_helpers import (
    LONG_TEXT,
    archives_of,
    inject_texts,
    messages_of,
    send,
    transcript,
    wait_for_reply_text,
    watch_sessions,
)
from sessiond.config import AgentConfig, Config
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, events_pb2, resources_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

Sessions = session_service_pb2_grpc.SessionServiceStub
Chat = chat_service_pb2_grpc.ChatServiceStub
Code = grpc.StatusCode
R = resources_pb2
KEEP = spb.CLEANUP_ACTION_KEEP
STALE = spb.CLEANUP_ACTION_PRUNE_STALE
OVERFLOW = spb.CLEANUP_ACTION_CAP_OVERFLOW
CLEANUP = events_pb2.SESSION_EVENT_REASON_CLEANUP
MAIN = "agent:main:main"
# Gap between "old" and "fresh" sessions or archives: far more than one RPC takes.
GAP_MS = 400


@pytest.fixture
def config(config: Config) -> Config:
    """Two agents, `main` (the default) and `other`, so max_count is checked per agent."""
    return replace(config, agents={"main": AgentConfig(), "other": AgentConfig()})


def millis(ts: Any) -> int:
    return int(ts.seconds) * 1000 + int(ts.nanos) // 1_000_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def duration_ms(ms: int) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromMilliseconds(ms)
    return duration


async def cleanup(sessions: Sessions, **fields: Any) -> spb.CleanupSessionsResponse:
    response: spb.CleanupSessionsResponse = await sessions.CleanupSessions(
        spb.CleanupSessionsRequest(**fields)
    )
    return response


def actions(response: spb.CleanupSessionsResponse) -> dict[str, int]:
    found = {e.key: e.action for e in response.entries}
    assert len(found) == len(response.entries), "a key listed twice"
    return found


def counts(response: spb.CleanupSessionsResponse) -> tuple[int, int, int, int]:
    return (
        response.kept,
        response.pruned_stale,
        response.cap_overflow,
        response.archives_pruned,
    )


async def all_sessions(sessions: Sessions) -> list[R.Session]:
    response = await sessions.ListSessions(spb.ListSessionsRequest(page_size=500))
    assert not response.next_page_token
    return list(response.sessions)


async def state(sessions: Sessions) -> dict[str, tuple[str, str, int, int]]:
    """Every session's transcript id, etag, update time and entry count."""
    return {
        s.key: (s.session_id, s.etag, millis(s.updated_at), s.message_count)
        for s in await all_sessions(sessions)
    }


async def session_with_entry(sessions: Sessions, chat: Chat, **fields: Any) -> R.Session:
    """A new session holding one injected entry naming its key."""
    created = await create_session(sessions, **fields)
    await inject_texts(chat, created.key, [f"entry of {created.key}"])
    got = (await sessions.GetSession(spb.GetSessionRequest(key=created.key))).session
    session: R.Session = got
    return session


async def busy_session(sessions: Sessions, chat: Chat) -> tuple[R.Session, str]:
    """A session whose run is in flight (about ten seconds of reply left)."""
    created = await create_session(sessions)
    run_id = (await send(chat, created.key, LONG_TEXT)).run_id
    await wait_for_reply_text(chat, created.key, run_id)
    return created, run_id


async def wait_past(ms: int) -> None:
    """Returns once the wall clock is past `ms` (epoch milliseconds)."""

    def passed() -> None:
        assert now_ms() > ms

    await assert_eventually(passed, timeout=5, interval=0.05)


async def cleanup_events(sessions: Sessions) -> list[events_pb2.SessionEvent]:
    """Every CLEANUP SessionEvent retained so far.

    A display-name update of the main session marks the end of what was written before.
    """
    await sessions.UpdateSession(
        spb.UpdateSessionRequest(
            key=MAIN,
            update=spb.SessionUpdate(display_name=f"marker {time.monotonic_ns()}"),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
        )
    )
    async with watch_sessions(sessions) as reader:
        await reader.read_until(
            lambda r: (
                r.event.session_key == MAIN
                and r.event.reason == events_pb2.SESSION_EVENT_REASON_UPDATE
                and r.event.session.display_name.startswith("marker")
            ),
            timeout=10,
        )
    return [r.event for r in reader.received if r.event.reason == CLEANUP]


async def test_dry_run_reports_exactly_what_enforce_does(sessions: Sessions, chat: Chat) -> None:
    main = await session_with_entry(sessions, chat, key="main")
    busy, run_id = await busy_session(sessions, chat)
    for _ in range(4):
        await session_with_entry(sessions, chat)
    for _ in range(3):
        await session_with_entry(sessions, chat, agent_id="other")
    before = await state(sessions)
    assert len(before) == 9
    # Expected: per agent, the two newest removable sessions stay (ListSessions order).
    expected: dict[str, int] = {main.key: KEEP, busy.key: KEEP}
    for agent in ("main", "other"):
        removable = [
            s.key
            for s in await all_sessions(sessions)
            if s.agent_id == agent and s.key not in expected
        ]
        expected |= {key: KEEP if i < 2 else OVERFLOW for i, key in enumerate(removable)}

    dry = await cleanup(sessions, max_count=2)

    assert dry.dry_run
    assert actions(dry) == expected
    assert counts(dry) == (6, 0, 3, 0)
    by_key = {e.key: millis(e.updated_at) for e in dry.entries}
    assert by_key == {key: value[2] for key, value in before.items()}
    explicit = await cleanup(sessions, max_count=2, dry_run=True)
    assert explicit.dry_run
    assert actions(explicit) == expected
    # Nothing changed.
    assert await state(sessions) == before
    assert await archives_of(sessions, "") == []

    enforced = await cleanup(sessions, max_count=2, dry_run=False)

    assert not enforced.dry_run
    assert actions(enforced) == actions(dry)
    assert counts(enforced) == counts(dry)
    removed = {key for key, action in expected.items() if action != KEEP}
    after = await state(sessions)
    assert set(after) == set(before) - removed
    assert {key: after[key] for key in after} == {key: before[key] for key in after}
    for key in removed:
        await expect_error(
            sessions.GetSession(spb.GetSessionRequest(key=key)), Code.NOT_FOUND, "SESSION_NOT_FOUND"
        )
        # The transcript stays readable as an archive.
        archives = await archives_of(sessions, key)
        assert [(a.session_id, a.reason) for a in archives] == [(before[key][0], "cleanup")]
        assert archives[0].message_count == 1
        texts, page = await transcript(sessions, session_id=before[key][0])
        assert page.archived
        assert [m.text for m in texts] == [f"entry of {key}"]

    # The busy session's run was not disturbed.
    run = (await chat.GetRun(cpb.GetRunRequest(run_id=run_id))).run
    assert run.status == R.RUN_STATUS_RUNNING

    events = await cleanup_events(sessions)
    assert sorted(e.session_key for e in events) == sorted(removed)
    assert all(e.session.session_id == before[e.session_key][0] for e in events)
    await chat.Abort(cpb.AbortRequest(session_key=busy.key))


async def test_main_and_active_sessions_are_never_removed(sessions: Sessions, chat: Chat) -> None:
    main = await session_with_entry(sessions, chat, key="main")
    busy, run_id = await busy_session(sessions, chat)
    idle = [await session_with_entry(sessions, chat) for _ in range(2)]
    await wait_past(max(millis(s.updated_at) for s in [main, busy, *idle]) + 5)

    dry = await cleanup(sessions, max_age=duration_ms(1), max_count=1)
    enforced = await cleanup(sessions, max_age=duration_ms(1), max_count=1, dry_run=False)

    expected = {main.key: KEEP, busy.key: KEEP} | {s.key: STALE for s in idle}
    assert actions(dry) == actions(enforced) == expected
    assert counts(enforced) == (2, 2, 0, 0)
    assert {s.key for s in await all_sessions(sessions)} == {main.key, busy.key}
    assert (await messages_of(sessions, main.key))[-1].text == f"entry of {main.key}"
    run = (await chat.GetRun(cpb.GetRunRequest(run_id=run_id))).run
    assert run.status == R.RUN_STATUS_RUNNING
    assert sorted(e.session_key for e in await cleanup_events(sessions)) == sorted(
        s.key for s in idle
    )
    await chat.Abort(cpb.AbortRequest(session_key=busy.key))


async def test_main_and_active_sessions_do_not_count_toward_max_count(
    sessions: Sessions, chat: Chat
) -> None:
    await session_with_entry(sessions, chat, key="main")
    busy, _ = await busy_session(sessions, chat)
    for _ in range(3):
        await session_with_entry(sessions, chat)
    removable = [s.key for s in await all_sessions(sessions) if s.key not in {MAIN, busy.key}]

    enforced = await cleanup(sessions, max_count=1, dry_run=False)

    assert actions(enforced) == {
        MAIN: KEEP,
        busy.key: KEEP,
        removable[0]: KEEP,
        removable[1]: OVERFLOW,
        removable[2]: OVERFLOW,
    }
    assert counts(enforced) == (3, 0, 2, 0)
    assert {s.key for s in await all_sessions(sessions)} == {MAIN, busy.key, removable[0]}
    await chat.Abort(cpb.AbortRequest(session_key=busy.key))


async def test_max_age_removes_sessions_not_updated_for_that_long(
    sessions: Sessions, chat: Chat
) -> None:
    old = [await session_with_entry(sessions, chat) for _ in range(2)]
    await wait_past(max(millis(s.updated_at) for s in old) + GAP_MS)
    fresh = [await session_with_entry(sessions, chat) for _ in range(2)]
    newest_old = max(millis(s.updated_at) for s in old)
    oldest_fresh = min(millis(s.updated_at) for s in fresh)
    assert oldest_fresh - newest_old > GAP_MS
    boundary = (newest_old + oldest_fresh) // 2
    # Fresh sessions: the newest stays, the other is beyond max_count=1.
    newest, older = sorted(fresh, key=lambda s: (millis(s.updated_at), s.key), reverse=True)
    expected = {s.key: STALE for s in old} | {newest.key: KEEP, older.key: OVERFLOW}

    dry = await cleanup(sessions, max_age=duration_ms(now_ms() - boundary), max_count=1)
    assert actions(dry) == expected
    assert counts(dry) == (1, 2, 1, 0)
    assert len(await all_sessions(sessions)) == 4

    enforced = await cleanup(
        sessions, max_age=duration_ms(now_ms() - boundary), max_count=1, dry_run=False
    )
    assert actions(enforced) == expected
    assert {s.key for s in await all_sessions(sessions)} == {newest.key}
    for session in [*old, older]:
        archives = await archives_of(sessions, session.key)
        assert [(a.session_id, a.reason) for a in archives] == [(session.session_id, "cleanup")]


async def test_archive_max_age_drops_old_archives_unless_a_checkpoint_needs_them(
    sessions: Sessions, chat: Chat
) -> None:
    reset = await session_with_entry(sessions, chat, label="reset me")
    await sessions.ResetSession(spb.ResetSessionRequest(key=reset.key))
    compacted = await session_with_entry(sessions, chat, label="compact me")
    await inject_texts(chat, compacted.key, ["second", "third"])
    compaction = await sessions.CompactSession(
        spb.CompactSessionRequest(key=compacted.key, max_lines=1)
    )
    deleted = await session_with_entry(sessions, chat, label="delete me")
    await sessions.DeleteSession(spb.DeleteSessionRequest(key=deleted.key))
    old = {a.session_id: a for a in await archives_of(sessions, "")}
    assert set(old) == {reset.session_id, compacted.session_id, deleted.session_id}
    await wait_past(max(millis(a.archived_at) for a in old.values()) + GAP_MS)
    second = await sessions.ResetSession(spb.ResetSessionRequest(key=reset.key))
    fresh_id = second.previous_session_id
    fresh = {a.session_id: a for a in await archives_of(sessions, "")}[fresh_id]
    boundary = (max(millis(a.archived_at) for a in old.values()) + millis(fresh.archived_at)) // 2
    live = await state(sessions)

    dry = await cleanup(sessions, archive_max_age=duration_ms(now_ms() - boundary))
    assert dry.dry_run
    assert dry.archives_pruned == 2
    assert set(actions(dry).values()) == {KEEP}
    assert len(await archives_of(sessions, "")) == 4
    assert [m.text for m in await messages_of(sessions, session_id=reset.session_id)] == [
        f"entry of {reset.key}"
    ]

    enforced = await cleanup(
        sessions, archive_max_age=duration_ms(now_ms() - boundary), dry_run=False
    )

    assert enforced.archives_pruned == 2
    assert set(actions(enforced).values()) == {KEEP}
    assert await state(sessions) == live
    for pruned in (reset.session_id, deleted.session_id):
        await expect_error(
            sessions.ListMessages(spb.ListMessagesRequest(session_id=pruned)), Code.NOT_FOUND
        )
    remaining = {a.session_id: a.reason for a in await archives_of(sessions, "")}
    assert remaining == {compacted.session_id: "compact", fresh_id: "reset"}
    # The checkpoint's transcript and the fresh archive are intact.
    checkpoint = (
        await sessions.GetCheckpoint(
            spb.GetCheckpointRequest(key=compacted.key, checkpoint_id=compaction.checkpoint_id)
        )
    ).checkpoint
    assert [m.text for m in checkpoint.messages] == [f"entry of {compacted.key}", "second", "third"]
    assert [m.text for m in await messages_of(sessions, session_id=compacted.session_id)] == [
        f"entry of {compacted.key}",
        "second",
        "third",
    ]
    assert await messages_of(sessions, session_id=fresh_id) == []


async def test_cleanup_of_one_agent_leaves_the_others_alone(sessions: Sessions, chat: Chat) -> None:
    mine = [await session_with_entry(sessions, chat) for _ in range(2)]
    others = [await session_with_entry(sessions, chat, agent_id="other") for _ in range(3)]

    enforced = await cleanup(sessions, agent_id="other", max_count=1, dry_run=False)

    assert set(actions(enforced)) == {s.key for s in others}
    assert counts(enforced) == (1, 0, 2, 0)
    left = {s.key for s in await all_sessions(sessions)}
    assert {s.key for s in mine} <= left
    assert len(left & {s.key for s in others}) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"max_count": -1}, "max_count"),
        ({"max_age": duration_pb2.Duration(seconds=-5)}, "max_age"),
        ({"archive_max_age": duration_pb2.Duration(seconds=-5)}, "archive_max_age"),
    ],
)
async def test_negative_limits_are_invalid(
    sessions: Sessions, chat: Chat, fields: dict[str, Any], field: str
) -> None:
    await session_with_entry(sessions, chat)
    before = await state(sessions)
    for dry_run in (True, False):
        err = await expect_error(
            cleanup(sessions, dry_run=dry_run, **fields), Code.INVALID_ARGUMENT
        )
        assert has_violation(err, field), err
    assert await state(sessions) == before


@pytest.mark.parametrize("field", ["max_age", "archive_max_age"])
@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [(315_576_000_001, 0), (0, 1_000_000_000), (1, -1), (2**62, 0)],
    ids=["seconds-beyond-10000-years", "nanos-over-a-second", "signs-differ", "huge"],
)
async def test_malformed_durations_are_invalid(
    sessions: Sessions, chat: Chat, field: str, seconds: int, nanos: int
) -> None:
    """Not a google.protobuf.Duration at all (these read as positive ages before): the
    field is named and nothing is removed, dry run or not."""
    await session_with_entry(sessions, chat)
    before = await state(sessions)
    bad = duration_pb2.Duration(seconds=seconds, nanos=nanos)
    for dry_run in (True, False):
        err = await expect_error(
            cleanup(sessions, dry_run=dry_run, **{field: bad}), Code.INVALID_ARGUMENT
        )
        assert has_violation(err, field), err
    assert await state(sessions) == before


async def test_unknown_agent_is_invalid(sessions: Sessions) -> None:
    await expect_error(
        cleanup(sessions, agent_id="nobody", max_count=1, dry_run=False),
        Code.INVALID_ARGUMENT,
        "UNKNOWN_AGENT",
    )
