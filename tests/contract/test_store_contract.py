"""The Store contract (store/base.py), part 1: transactions, sessions, transcripts.

Every test runs against each Store implementation (see conftest.py). The cursor log is
in test_store_log_contract.py; runs and checkpoints in test_store_runs_contract.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from sessiond.domain.errors import LabelInUse, Unavailable
from sessiond.domain.events import SessionChanged
from sessiond.domain.models import Message, Role, RunLease, RunStatus, Session, SessionEventReason
from sessiond.store.base import ReadTx, SessionQuery, Store, WriteTx

from contract.store_records import checkpoint, full_message, full_session, message, run, session


class Rejected(Exception):
    """What a write function of these tests raises after changing things."""


async def insert(store: Store, *sessions: Session) -> None:
    def write(tx: WriteTx) -> None:
        for each in sessions:
            tx.insert_session(each)

    await store.write(write)


async def append(store: Store, session_id: str, *texts: str, **fields: object) -> list[int]:
    def write(tx: WriteTx) -> list[int]:
        return [tx.append_message(message(session_id, t, **fields)).seq for t in texts]

    return await store.write(write)


# -- transactions -----------------------------------------------------------------------


async def test_a_committed_write_is_seen_by_reads_and_by_session(store: Store) -> None:
    await insert(store, session())
    assert await store.read(lambda tx: tx.get_session("agent:main:a")) == session()
    assert await store.session("agent:main:a") == session()
    assert await store.session("agent:main:missing") is None


async def test_session_is_the_session_as_of_the_latest_commit(store: Store) -> None:
    await insert(store, session())
    assert await store.session("agent:main:a") == session()
    renamed = replace(session(), display_name="renamed", etag="e2", updated_at=2)
    await store.write(lambda tx: tx.update_session(renamed))
    assert await store.session("agent:main:a") == renamed
    await append(store, "sid-agent:main:a", "one", "two")
    seen = await store.session("agent:main:a")
    assert seen is not None
    assert seen.message_count == 2  # the transcript's count, whatever the record said
    await store.write(lambda tx: tx.delete_session("agent:main:a"))
    assert await store.session("agent:main:a") is None


async def test_a_write_function_sees_its_own_changes(store: Store) -> None:
    def write(tx: WriteTx) -> tuple[Session | None, int, int]:
        tx.insert_session(session())
        tx.append_message(message("sid-agent:main:a"))
        return (
            tx.get_session("agent:main:a"),
            tx.last_seq("sid-agent:main:a"),
            len(tx.list_messages("sid-agent:main:a", limit=10)),
        )

    seen, last_seq, listed = await store.write(write)
    assert seen == replace(session(), message_count=1)
    assert (last_seq, listed) == (1, 1)


async def test_a_write_returns_its_functions_result(store: Store) -> None:
    assert await store.write(lambda tx: "result") == "result"
    assert await store.read(lambda tx: ("read", tx.get_session("none"))) == ("read", None)


def _change_everything(tx: WriteTx) -> None:
    """Changes every kind of row, then raises: none of it may stay."""
    tx.insert_session(session("agent:main:new", label="taken"))
    tx.append_message(message("sid-agent:main:a", "lost"))
    current = tx.get_session("agent:main:a")
    assert current is not None
    tx.update_session(replace(current, session_id="sid-lost", label="moved", etag="lost"))
    tx.append_event("agent:main:a", 50, SessionChanged(), reason=SessionEventReason.UPDATE)
    tx.insert_run(run("run-lost", idempotency_key="idem-lost"))
    tx.update_run(replace(run("run-1"), status=RunStatus.DONE))
    tx.insert_checkpoint(checkpoint("cp-lost", "agent:main:a", "sid-agent:main:a", 60))
    tx.delete_checkpoint("cp-1")
    tx.archive_transcript("sid-agent:main:b", "reset", 70)
    tx.prune_events(1_000)
    tx.put_lease(RunLease("run-lost", "agent:main:a", "replica-b", 1, 5))
    tx.renew_lease("run-1", "replica-a", 1, 999)
    tx.delete_lease("run-gone")
    tx.delete_session("agent:main:b")
    raise Rejected("after changing everything")


async def _state(store: Store) -> tuple[object, ...]:
    def read(tx: ReadTx) -> tuple[object, ...]:
        return (
            tx.list_sessions(SessionQuery(), 100, None),
            tx.list_messages("sid-agent:main:a", limit=100),
            tx.get_transcript("sid-lost"),
            tx.events_after("agent:main:a", 0, 100),
            (tx.head_cursor("agent:main:a"), tx.head_global_seq(), tx.oldest_global_seq()),
            tx.list_runs("agent:main:a", None, 100, 0),
            tx.find_run_by_idempotency("agent:main:a", "", "idem-lost"),
            tx.list_checkpoints("agent:main:a"),
            tx.list_archives("", 100, None),
            tx.expired_leases(10_000, 100),
        )

    return await store.read(read)


async def test_a_function_that_raises_leaves_no_trace(store: Store) -> None:
    def setup(tx: WriteTx) -> None:
        tx.insert_session(session(label="kept"))
        tx.insert_session(session("agent:main:b"))
        tx.append_message(message("sid-agent:main:a", "kept"))
        tx.append_event("agent:main:a", 5, SessionChanged(), reason=SessionEventReason.CREATE)
        tx.insert_run(run("run-1"))
        tx.insert_checkpoint(checkpoint("cp-1", "agent:main:a", "sid-agent:main:a", 6))
        tx.put_lease(RunLease("run-1", "agent:main:a", "replica-a", 1, 8))
        tx.put_lease(RunLease("run-gone", "agent:main:a", "replica-a", 1, 9))

    await store.write(setup)
    before = await _state(store)
    with pytest.raises(Rejected):
        await store.write(_change_everything)
    assert await _state(store) == before
    # What the failed function took is free, and counters go on from what was committed.
    await insert(store, session("agent:main:new", label="taken"))
    assert await append(store, "sid-agent:main:a", "next") == [2]
    event = await store.write(
        lambda tx: tx.append_event("agent:main:a", 7, SessionChanged(), reason=None)
    )
    assert (event.cursor, event.global_seq) == (2, 2)


async def test_one_failing_write_among_concurrent_ones_fails_alone(store: Store) -> None:
    """Writes made in the same moment may share one commit; the one that raises is rolled
    back alone, its exception reaches only its caller, the others commit."""
    await insert(store, session())
    rejected = Rejected("only mine")

    def good(text: str) -> Callable[[WriteTx], int]:
        def write(tx: WriteTx) -> int:
            tx.append_event("agent:main:a", 1, SessionChanged())
            return tx.append_message(message("sid-agent:main:a", text)).seq

        return write

    def bad(tx: WriteTx) -> int:
        tx.append_message(message("sid-agent:main:a", "bad"))
        tx.append_event("agent:main:a", 1, SessionChanged())
        tx.insert_session(session("agent:main:bad"))
        raise rejected

    results = await asyncio.gather(
        store.write(good("one")),
        store.write(bad),
        store.write(good("two")),
        store.write(good("three")),
        return_exceptions=True,
    )
    assert results[1] is rejected
    assert sorted(r for r in results if isinstance(r, int)) == [1, 2, 3]

    def read(tx: ReadTx) -> tuple[list[str], list[int], Session | None]:
        texts = [m.text for m in tx.list_messages("sid-agent:main:a", limit=10)]
        cursors = [e.cursor for e in tx.events_after("agent:main:a", 0, 10)]
        return texts, cursors, tx.get_session("agent:main:bad")

    texts, cursors, bad_session = await store.read(read)
    assert sorted(texts) == ["one", "three", "two"]
    assert cursors == [1, 2, 3]
    assert bad_session is None


async def test_a_write_after_close_is_unavailable(store: Store) -> None:
    await insert(store, session())
    await store.close()
    with pytest.raises(Unavailable):
        await store.write(lambda tx: tx.insert_session(session("agent:main:late")))
    await store.close()  # closing again is harmless


# -- sessions ---------------------------------------------------------------------------


async def test_a_session_round_trips_with_every_field(store: Store) -> None:
    full = full_session()
    await insert(store, full)
    assert await store.read(lambda tx: tx.get_session(full.key)) == full
    assert await store.session(full.key) == full


async def test_a_stored_session_shares_no_mutable_part(store: Store) -> None:
    written = full_session()
    await insert(store, written)
    written.metadata["team"] = "changed by the writer"
    read = await store.read(lambda tx: tx.get_session(written.key))
    assert read is not None
    assert read.metadata["team"] == "blue"
    read.metadata["team"] = "changed by a reader"
    read.plugin_state[0].value["ok"] = False
    again = await store.session(written.key)
    assert again == full_session()


async def test_labels_are_unique_per_agent(store: Store) -> None:
    await insert(store, session(label="x"), session("agent:main:b"), session("agent:main:c"))
    with pytest.raises(LabelInUse):
        await insert(store, session("agent:main:d", label="x"))
    b = replace(session("agent:main:b"), label="x")
    with pytest.raises(LabelInUse):
        await store.write(lambda tx: tx.update_session(b))
    # Another agent may use it; unlabelled sessions never clash.
    await insert(store, session("agent:other:x", label="x"))
    # A label is free again once its session moves on or goes.
    await store.write(lambda tx: tx.update_session(replace(session(), label="y")))
    await store.write(lambda tx: tx.update_session(b))
    with pytest.raises(LabelInUse):
        await store.write(lambda tx: tx.update_session(replace(session(), label="x")))
    await store.write(lambda tx: tx.delete_session("agent:main:b"))
    await insert(store, session("agent:main:d", label="x"))


async def test_a_new_session_id_registers_a_new_transcript(store: Store) -> None:
    await insert(store, session())
    await append(store, "sid-agent:main:a", "old one", "old two")
    fresh = replace(session(), session_id="sid-fresh", etag="e2")
    await store.write(lambda tx: tx.update_session(fresh))
    transcript = await store.read(lambda tx: tx.get_transcript("sid-fresh"))
    assert transcript is not None
    assert (transcript.session_key, transcript.archived) == ("agent:main:a", False)
    assert await store.session("agent:main:a") == replace(fresh, message_count=0)
    assert await append(store, "sid-fresh", "new") == [1]
    seen = await store.session("agent:main:a")
    assert seen is not None
    assert seen.message_count == 1
    # The old transcript is untouched.
    assert await store.read(lambda tx: tx.last_seq("sid-agent:main:a")) == 2


async def test_deleting_a_session_keeps_its_transcript(store: Store) -> None:
    await insert(store, session())
    await append(store, "sid-agent:main:a", "kept")
    await store.write(lambda tx: tx.delete_session("agent:main:a"))
    assert await store.session("agent:main:a") is None
    texts = await store.read(lambda tx: tx.list_messages("sid-agent:main:a", limit=5))
    assert [m.text for m in texts] == ["kept"]
    transcript = await store.read(lambda tx: tx.get_transcript("sid-agent:main:a"))
    assert transcript is not None
    assert not transcript.archived


async def test_find_sessions_by_label_matches_exactly(store: Store) -> None:
    await insert(
        store,
        session("agent:main:b", label="Same"),
        session("agent:other:a", label="Same"),
        session("agent:main:c", label="Same but longer"),
        session("agent:main:d", label="same"),
    )

    def keys(label: str, agent_id: str) -> Awaitable[list[str]]:
        return store.read(lambda tx: [s.key for s in tx.find_sessions_by_label(label, agent_id)])

    assert await keys("Same", "") == ["agent:main:b", "agent:other:a"]
    assert await keys("Same", "other") == ["agent:other:a"]
    assert await keys("Same", "nobody") == []
    found = await store.read(lambda tx: tx.find_sessions_by_label("Same", "main"))
    assert found == [session("agent:main:b", label="Same")]


def _listed(
    store: Store, query: SessionQuery, limit: int = 100, after: tuple[int, str] | None = None
) -> Awaitable[list[str]]:
    return store.read(lambda tx: [s.key for s in tx.list_sessions(query, limit, after)])


async def test_list_sessions_is_newest_first_with_keyset_pages(store: Store) -> None:
    await insert(
        store,
        session("agent:main:a", updated_at=3),
        session("agent:main:b", updated_at=5),
        session("agent:main:c", updated_at=3),
        session("agent:main:d", updated_at=1),
    )
    everything = ["agent:main:b", "agent:main:c", "agent:main:a", "agent:main:d"]
    assert await _listed(store, SessionQuery()) == everything
    assert await _listed(store, SessionQuery(), limit=2) == everything[:2]
    assert await _listed(store, SessionQuery(), 2, (3, "agent:main:c")) == everything[2:]
    assert await _listed(store, SessionQuery(), 100, (1, "agent:main:d")) == []
    await append(store, "sid-agent:main:b", "one")
    listed = await store.read(lambda tx: tx.list_sessions(SessionQuery(), 1, None))
    assert listed[0].message_count == 1


async def test_list_sessions_filters(store: Store) -> None:
    await insert(
        store,
        session("agent:main:a", label="Blue Team", updated_at=1),
        session("agent:main:b", label="red", parent_session_key="agent:main:a", updated_at=2),
        session("agent:main:c", active_run_id="run-c", updated_at=3),
        session("agent:other:a", label="BLUE", updated_at=4),
    )
    assert await _listed(store, SessionQuery(agent_id="other")) == ["agent:other:a"]
    assert await _listed(store, SessionQuery(label_contains="blue")) == [
        "agent:other:a",
        "agent:main:a",
    ]
    by_parent = SessionQuery(parent_session_key="agent:main:a")
    assert await _listed(store, by_parent) == ["agent:main:b"]
    assert await _listed(store, SessionQuery(active_only=True)) == ["agent:main:c"]
    assert await _listed(store, SessionQuery(updated_after=2)) == ["agent:other:a", "agent:main:c"]
    both = SessionQuery(agent_id="main", label_contains="BLUE")
    assert await _listed(store, both) == ["agent:main:a"]


# -- transcripts ------------------------------------------------------------------------


async def test_messages_get_gap_free_seqs_per_transcript(store: Store) -> None:
    await insert(store, session(), session("agent:main:b"))
    assert await append(store, "sid-agent:main:a", "1", "2") == [1, 2]
    assert await append(store, "sid-agent:main:b", "1") == [1]
    assert await append(store, "sid-agent:main:a", "3") == [3]
    assert await store.read(lambda tx: tx.last_seq("sid-agent:main:a")) == 3
    assert await store.read(lambda tx: tx.last_seq("sid-unknown")) == 0
    with pytest.raises(LookupError):
        await append(store, "sid-unknown", "nowhere")


async def test_a_message_round_trips_with_every_field(store: Store) -> None:
    await insert(store, session())
    stored = await store.write(lambda tx: tx.append_message(full_message("sid-agent:main:a")))
    assert stored == replace(full_message("sid-agent:main:a"), seq=1)
    assert await store.read(lambda tx: tx.list_messages("sid-agent:main:a", limit=1)) == [stored]


async def test_list_messages_bounds_order_and_silent_entries(store: Store) -> None:
    await insert(store, session())
    sid = "sid-agent:main:a"
    await append(store, sid, "1", "2", "3")
    await append(store, sid, "4", silent=True)
    await append(store, sid, "5", "6")

    def seqs(**kwargs: Any) -> Awaitable[list[int]]:
        return store.read(lambda tx: [m.seq for m in tx.list_messages(sid, **kwargs)])

    assert await seqs(limit=100) == [1, 2, 3, 5, 6]
    assert await seqs(limit=100, include_silent=True) == [1, 2, 3, 4, 5, 6]
    assert await seqs(limit=2) == [1, 2]
    assert await seqs(limit=2, newest_first=True) == [6, 5]
    assert await seqs(limit=100, after_seq=2, before_seq=6) == [3, 5]
    assert await seqs(limit=100, after_seq=2, before_seq=6, include_silent=True) == [3, 4, 5]
    assert await seqs(limit=2, before_seq=6, newest_first=True) == [5, 3]
    assert await seqs(limit=2, before_seq=6, newest_first=True, include_silent=True) == [5, 4]
    assert await seqs(limit=100, after_seq=6) == []
    assert await seqs(limit=100, before_seq=1) == []
    assert await seqs(limit=0) == []
    assert await store.read(lambda tx: tx.list_messages("sid-unknown", limit=5)) == []


async def test_archived_transcripts_are_listed_newest_first(store: Store) -> None:
    keys = ("agent:main:a", "agent:main:b", "agent:main:c")
    await insert(store, *(session(k) for k in keys))
    await append(store, "sid-agent:main:a", "1", "2")

    def archive(tx: WriteTx) -> None:
        tx.archive_transcript("sid-agent:main:a", "reset", 20)
        tx.archive_transcript("sid-agent:main:b", "delete", 30)
        tx.archive_transcript("sid-agent:main:c", "compact", 20)
        tx.archive_transcript("sid-agent:main:a", "again", 40)  # archived once only

    await store.write(archive)
    listed = await store.read(lambda tx: tx.list_archives("", 10, None))
    assert [(a.session_id, a.reason, a.archived_at) for a in listed] == [
        ("sid-agent:main:b", "delete", 30),
        ("sid-agent:main:c", "compact", 20),
        ("sid-agent:main:a", "reset", 20),
    ]
    assert (listed[2].session_key, listed[2].message_count) == ("agent:main:a", 2)
    of_a = await store.read(lambda tx: tx.list_archives("agent:main:a", 10, None))
    assert [a.session_id for a in of_a] == ["sid-agent:main:a"]
    page = await store.read(lambda tx: tx.list_archives("", 1, (20, "sid-agent:main:c")))
    assert [a.session_id for a in page] == ["sid-agent:main:a"]
    transcript = await store.read(lambda tx: tx.get_transcript("sid-agent:main:b"))
    assert transcript is not None
    assert transcript.archived
    assert await store.read(lambda tx: tx.get_transcript("sid-unknown")) is None


async def test_only_archived_transcripts_are_deleted(store: Store) -> None:
    await insert(store, session(), session("agent:main:b"))
    await append(store, "sid-agent:main:a", "live")
    await append(store, "sid-agent:main:b", "archived")

    def retire_b(tx: WriteTx) -> None:
        tx.archive_transcript("sid-agent:main:b", "delete", 5)
        tx.delete_session("agent:main:b")

    await store.write(retire_b)
    await store.write(lambda tx: tx.delete_transcript("sid-agent:main:a"))  # live: kept
    await store.write(lambda tx: tx.delete_transcript("sid-agent:main:b"))

    def read(tx: ReadTx) -> tuple[object, ...]:
        return (
            [m.text for m in tx.list_messages("sid-agent:main:a", limit=5)],
            tx.list_messages("sid-agent:main:b", limit=5),
            tx.get_transcript("sid-agent:main:b"),
            tx.list_archives("", 5, None),
        )

    assert await store.read(read) == (["live"], [], None, [])


async def test_archives_before_skips_recent_and_preserved_ones(store: Store) -> None:
    keys = ("agent:main:a", "agent:main:b", "agent:main:c", "agent:main:d")
    await insert(store, *(session(k) for k in keys))

    def archive(tx: WriteTx) -> None:
        tx.archive_transcript("sid-agent:main:a", "reset", 30)
        tx.archive_transcript("sid-agent:main:b", "reset", 10)
        tx.archive_transcript("sid-agent:main:c", "compact", 20)
        tx.archive_transcript("sid-agent:main:d", "reset", 50)  # not older than 50
        tx.insert_checkpoint(checkpoint("cp", "agent:main:c", "sid-agent:main:c", 20))

    await store.write(archive)
    old = await store.read(lambda tx: tx.archives_before(50))
    assert [(a.session_id, a.archived_at) for a in old] == [
        ("sid-agent:main:b", 10),
        ("sid-agent:main:a", 30),
    ]
    await store.write(lambda tx: tx.delete_checkpoint("cp"))
    old = await store.read(lambda tx: tx.archives_before(50))
    assert [a.session_id for a in old] == [
        "sid-agent:main:b",
        "sid-agent:main:c",
        "sid-agent:main:a",
    ]


async def test_a_message_of_another_role_keeps_its_role(store: Store) -> None:
    await insert(store, session())
    await store.write(
        lambda tx: [
            tx.append_message(Message("sid-agent:main:a", 0, role, role.value, 2)) for role in Role
        ]
    )
    messages = await store.read(lambda tx: tx.list_messages("sid-agent:main:a", limit=10))
    assert [m.role for m in messages] == list(Role)
