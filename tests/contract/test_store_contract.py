"""The Store contract (store/base.py), part 1: transactions and sessions.

Every test runs against each Store implementation (see conftest.py). Transcripts are in
test_store_transcripts_contract.py, the cursor log in test_store_log_contract.py, runs
and checkpoints in test_store_runs_contract.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from sessiond.domain.errors import LabelInUse, Unavailable
from sessiond.domain.events import SessionChanged
from sessiond.domain.models import RunLease, RunStatus, Session, SessionEventReason
from sessiond.store.base import ReadTx, SessionQuery, Store, WriteTx

from contract.store_records import append, checkpoint, full_session, insert, message, run, session


class Rejected(Exception):
    """What a write function of these tests raises after changing things."""


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
