"""The Store contract, part 2: transcripts (messages, archives, retention)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace
from typing import Any

import pytest
from sessiond.domain.models import Message, Role
from sessiond.store.base import ReadTx, Store, WriteTx

from contract.store_records import append, checkpoint, full_message, insert, session


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
