"""The run context cache (core/context.py) counts the characters it holds incrementally;
the count must match a full recount whatever was appended or trimmed."""

from __future__ import annotations

from pathlib import Path

from sessiond.core.runs.context import MAX_CACHED_CHARS, TranscriptContext, _chars
from sessiond.domain.models import Attachment, Message, Role, Session
from sessiond.store.base import WriteTx
from sessiond.store.sqlite.store import SqliteStore


def _message(seq: int, text: str, **fields: object) -> Message:
    return Message("sid", seq, Role.USER, text, seq, **fields)  # type: ignore[arg-type]


def _cached_chars(context: TranscriptContext) -> int | None:
    entry = context._cache.get("sid")
    return entry.chars if entry is not None else None


def test_counts_follow_appends_and_trims() -> None:
    limit = 5
    context = TranscriptContext(limit=limit)
    held: tuple[Message, ...] = ()
    for seq in range(1, 40):
        text = "x" * (seq % 7) + ("" if seq % 3 else "é" * seq)
        extra = {"tool_input": "{}" * (seq % 4)} if seq % 5 == 0 else {}
        held = (*held, _message(seq, text, **extra))[-limit:]
        context.remember("sid", held)
        assert _cached_chars(context) == _chars(held)


def test_a_new_tuple_of_other_objects_is_recounted() -> None:
    context = TranscriptContext(limit=3)
    first = tuple(_message(seq, "a" * seq) for seq in (1, 2, 3))
    context.remember("sid", first)
    # Same seqs, different entries (e.g. read again from the store): no reuse of the count.
    again = tuple(_message(seq, "b" * (10 * seq)) for seq in (2, 3, 4))
    context.remember("sid", again)
    assert _cached_chars(context) == _chars(again) == 90


def test_attachments_and_oversized_transcripts_are_not_kept() -> None:
    context = TranscriptContext(limit=3)
    plain = (_message(1, "hi"),)
    context.remember("sid", plain)
    image = Attachment("image/png", b"\x89PNG")
    context.remember("sid", (*plain, _message(2, "look", attachments=(image,))))
    assert _cached_chars(context) is None
    context.remember("sid", plain)
    assert _cached_chars(context) == 2
    context.remember("sid", (*plain, _message(2, "y" * MAX_CACHED_CHARS)))
    assert _cached_chars(context) is None


async def test_a_starting_write_reads_only_a_few_rows(tmp_path: Path) -> None:
    """`newest_if_cached` (used inside the write that starts a run) reads at most
    `max_read` rows; past that it answers None and the run reads its context itself."""
    store = SqliteStore(tmp_path / "context.db")
    await store.open()
    try:
        session = Session(
            key="k", session_id="sid", agent_id="echo", created_at=1, updated_at=1, etag="e"
        )

        def fill(tx: WriteTx) -> None:
            tx.insert_session(session)
            for seq in range(1, 11):
                tx.append_message(_message(seq, f"m{seq}"))

        await store.write(fill)
        context = TranscriptContext(limit=100)
        cold = await store.read(lambda tx: context.newest_if_cached(tx, "sid", 4))
        assert cold is None  # ten rows, none cached
        small = await store.read(lambda tx: context.newest_if_cached(tx, "sid", 10))
        assert small is not None
        assert [m.seq for m in small] == list(range(1, 11))
        assert _cached_chars(context) is None  # not remembered until the caller commits
        context.remember("sid", small)
        await store.write(
            lambda tx: [tx.append_message(_message(s, f"m{s}")) for s in range(11, 14)]
        )
        warm = await store.read(lambda tx: context.newest_if_cached(tx, "sid", 4))
        assert warm is not None
        assert [m.seq for m in warm][-4:] == [10, 11, 12, 13]
        await store.write(
            lambda tx: [tx.append_message(_message(s, f"m{s}")) for s in range(14, 20)]
        )
        behind = await store.read(lambda tx: context.newest_if_cached(tx, "sid", 4))
        assert behind is None  # nine rows behind the cache
    finally:
        await store.close()
