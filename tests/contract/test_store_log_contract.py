"""The Store contract, part 3: the cursor log (append_event, events_after, feed_after,
heads, pruning) and the typed event bodies it keeps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from sessiond.domain.events import KIND_OF_BODY, Event, SessionChanged
from sessiond.domain.models import SessionEventReason
from sessiond.store.base import ReadTx, Store, WriteTx

from contract.store_records import bodies, full_session, session


def appending(key: str, count: int, ts: int = 1) -> Callable[[WriteTx], list[Event]]:
    def write(tx: WriteTx) -> list[Event]:
        return [tx.append_event(key, ts, SessionChanged()) for _ in range(count)]

    return write


def positions(events: list[Event]) -> list[tuple[str, int, int]]:
    return [(e.session_key, e.cursor, e.global_seq) for e in events]


async def test_an_empty_log(store: Store) -> None:
    def read(tx: ReadTx) -> tuple[object, ...]:
        return (
            tx.events_after("k", 0, 10),
            tx.feed_after(0, 10),
            tx.oldest_cursor("k"),
            tx.head_cursor("k"),
            tx.oldest_global_seq(),
            tx.head_global_seq(),
        )

    assert await store.read(read) == ([], [], 0, 0, 0, 0)


async def test_cursors_are_gap_free_per_key_and_global_seq_follows_commits(store: Store) -> None:
    await store.write(appending("a", 2))
    await store.write(appending("b", 1))
    await store.write(appending("a", 1))
    expected = [("a", 1, 1), ("a", 2, 2), ("b", 1, 3), ("a", 3, 4)]

    def read(tx: ReadTx) -> tuple[object, ...]:
        return (
            positions(tx.feed_after(0, 10)),
            positions(tx.events_after("a", 0, 10)),
            positions(tx.events_after("a", 1, 1)),
            positions(tx.feed_after(2, 1)),
            (tx.head_cursor("a"), tx.head_cursor("b"), tx.head_global_seq()),
            (tx.oldest_cursor("a"), tx.oldest_global_seq()),
        )

    assert await store.read(read) == (
        expected,
        [p for p in expected if p[0] == "a"],
        [("a", 2, 2)],
        [("b", 1, 3)],
        (3, 1, 4),
        (1, 1),
    )


async def test_concurrent_writes_keep_the_log_gap_free_in_commit_order(store: Store) -> None:
    """Writes made at once: each key's cursors have no gap, global positions run 1..N in
    the order the writes committed, and a reader sees a prefix of that order, never N+1
    without N."""
    writes = [store.write(appending(key, 3)) for key in ("a", "b", "a", "c", "b", "a")]
    reads = [store.read(lambda tx: tx.feed_after(0, 100)) for _ in range(6)]
    results = await asyncio.gather(*writes, *reads)
    written: list[list[Event]] = results[:6]
    for seen in results[6:]:
        assert [e.global_seq for e in seen] == list(range(1, len(seen) + 1))
    # One write's events are consecutive; the writes' blocks cover 1..18 with no gap.
    blocks = sorted([e.global_seq for e in events] for events in written)
    assert [seq for block in blocks for seq in block] == list(range(1, 19))
    for events in written:
        assert [e.global_seq for e in events] == list(
            range(events[0].global_seq, events[0].global_seq + 3)
        )
    feed = await store.read(lambda tx: tx.feed_after(0, 100))
    assert positions(feed) == sorted(
        (p for events in written for p in positions(events)), key=lambda p: p[2]
    )
    for key, count in (("a", 9), ("b", 6), ("c", 3)):
        cursors = [e.cursor for e in feed if e.session_key == key]
        assert cursors == list(range(1, count + 1))


async def test_pruning_drops_old_events_and_cursors_keep_counting(store: Store) -> None:
    await store.write(appending("a", 2, ts=10))
    await store.write(appending("b", 1, ts=10))
    await store.write(appending("a", 1, ts=20))
    assert await store.write(lambda tx: tx.prune_events(20)) == 3  # ts < 20

    def read(tx: ReadTx) -> tuple[object, ...]:
        return (
            positions(tx.events_after("a", 0, 10)),
            positions(tx.feed_after(0, 10)),
            (tx.oldest_cursor("a"), tx.head_cursor("a")),
            (tx.oldest_cursor("b"), tx.head_cursor("b")),
            (tx.oldest_global_seq(), tx.head_global_seq()),
        )

    assert await store.read(read) == (
        [("a", 3, 4)],
        [("a", 3, 4)],
        (3, 3),
        (0, 1),
        (4, 4),
    )
    more = await store.write(appending("b", 1, ts=30))
    assert positions(more) == [("b", 2, 5)]
    assert await store.write(lambda tx: tx.prune_events(1_000)) == 2
    assert await store.read(read) == ([], [], (0, 3), (0, 2), (0, 5))
    again = await store.write(appending("a", 1, ts=40))
    assert positions(again) == [("a", 4, 6)]
    assert await store.write(lambda tx: tx.prune_events(0)) == 0


async def test_cursors_go_on_across_delete_and_re_create(store: Store) -> None:
    key = "agent:main:a"

    def create(tx: WriteTx) -> Event:
        tx.insert_session(session(key))
        return tx.append_event(
            key, 1, SessionChanged(), reason=SessionEventReason.CREATE, session=session(key)
        )

    def delete(tx: WriteTx) -> Event:
        tx.delete_session(key)
        return tx.append_event(
            key, 2, SessionChanged(), reason=SessionEventReason.DELETE, session=session(key)
        )

    first = await store.write(create)
    deleted = await store.write(delete)
    second = await store.write(create)
    assert [first.cursor, deleted.cursor, second.cursor] == [1, 2, 3]


async def test_every_body_kind_round_trips_through_the_log(store: Store) -> None:
    sent = bodies("sid-1")
    assert {type(b) for b in sent} == set(KIND_OF_BODY)

    def write(tx: WriteTx) -> list[Event]:
        return [
            tx.append_event("agent:main:a", 100 + i, body, run_id=f"run-{i}")
            for i, body in enumerate(sent)
        ]

    appended = await store.write(write)
    replayed = await store.read(lambda tx: tx.events_after("agent:main:a", 0, 100))
    fed = await store.read(lambda tx: tx.feed_after(0, 100))
    assert replayed == fed == appended
    for i, (event, body) in enumerate(zip(replayed, sent, strict=True)):
        assert type(event.body) is type(body)
        assert event.body == body
        assert event.kind is KIND_OF_BODY[type(body)]
        assert (event.run_id, event.ts, event.cursor) == (f"run-{i}", 100 + i, i + 1)
        assert (event.reason, event.session) == (None, None)


async def test_session_changes_keep_their_reason_and_snapshot(store: Store) -> None:
    """Every reason, with the session after the change (every field of it), comes back."""
    snapshot = replace(full_session(), message_count=7)

    def write(tx: WriteTx) -> list[Event]:
        return [
            tx.append_event(
                snapshot.key, 5, SessionChanged(), run_id="run-x", reason=reason, session=snapshot
            )
            for reason in SessionEventReason
        ]

    appended = await store.write(write)
    replayed = await store.read(lambda tx: tx.events_after(snapshot.key, 0, 100))
    assert replayed == appended
    assert [e.reason for e in replayed] == list(SessionEventReason)
    for event in replayed:
        assert event.session == snapshot  # as it was recorded, message count included
        assert event.run_id == "run-x"
    # Every body kind may carry a change.
    terminal = bodies("sid-1")[4]
    carried = await store.write(
        lambda tx: tx.append_event(
            snapshot.key, 6, terminal, reason=SessionEventReason.RUN_END, session=snapshot
        )
    )
    stored = await store.read(lambda tx: tx.events_after(snapshot.key, carried.cursor - 1, 1))
    assert stored == [carried]
    assert (stored[0].body, stored[0].session) == (terminal, snapshot)


async def test_a_snapshot_shares_no_mutable_part(store: Store) -> None:
    snapshot = full_session()
    await store.write(
        lambda tx: tx.append_event(
            snapshot.key, 1, SessionChanged(), reason=SessionEventReason.UPDATE, session=snapshot
        )
    )
    snapshot.metadata["team"] = "changed by the writer"
    first = await store.read(lambda tx: tx.events_after(snapshot.key, 0, 1))
    assert first[0].session is not None
    assert first[0].session.metadata["team"] == "blue"
    first[0].session.metadata["team"] = "changed by a reader"
    again = await store.read(lambda tx: tx.feed_after(0, 1))
    assert again[0].session == full_session()
