"""The run context cache (core/runs/context.py): the window of newest entries a run cuts
its request from holds more than the agent's budget (or the whole transcript), is grown
incrementally, and counts its tokens exactly as a full recount would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sessiond.core.runs.context import MAX_CACHED_TOKENS, TranscriptContext, Window, _grown
from sessiond.domain.models import Attachment, Message, Role, Session
from sessiond.domain.tokens import message_tokens, request_tokens
from sessiond.store.base import ReadTx, WriteTx
from sessiond.store.sqlite.store import SqliteStore

T = TypeVar("T")


def _message(seq: int, text: str, **fields: Any) -> Message:
    return Message("sid", seq, Role.USER, text, seq, **fields)


def _tokens(messages: tuple[Message, ...]) -> int:
    return sum(map(message_tokens, messages))


def _cached(context: TranscriptContext) -> Window | None:
    return context._cache.get("sid")


def test_a_grown_window_holds_the_budget_and_counts_like_a_recount() -> None:
    budget, limit = 40, 12
    window = Window((), 0, budget, 0)
    held: list[Message] = []
    for seq in range(1, 120):
        text = "x" * (seq % 13) + ("" if seq % 3 else "é" * seq)
        extra: dict[str, Any] = {"tool_input": "{}" * (seq % 4)} if seq % 5 == 0 else {}
        if seq % 7 == 0:
            extra["silent"] = True  # sent as nothing, still counted in the window
        appended = [_message(seq, text, **extra)]
        held += appended
        window = _grown(window, appended, limit)
        assert window.tokens == _tokens(window.messages)
        assert window.sent == sum(map(request_tokens, window.messages))
        assert window.messages == tuple(held[-len(window.messages) :])
        assert len(window.messages) <= limit
        # The newest entries holding more than the budget: one entry less would not.
        if window.messages[0].seq > 1 and len(window.messages) < limit:
            assert window.tokens > budget >= window.tokens - message_tokens(window.messages[0])


def test_attachments_and_oversized_windows_are_not_kept() -> None:
    context = TranscriptContext()
    plain = (_message(1, "hi"),)
    context.remember("sid", Window(plain, _tokens(plain), 100, _tokens(plain)))
    assert _cached(context) is not None
    image = _message(2, "look", attachments=(Attachment("image/png", b"\x89PNG"),))
    with_image = _grown(Window(plain, _tokens(plain), 100, _tokens(plain)), [image], 10)
    assert with_image.with_attachments == 1
    context.remember("sid", with_image)
    assert _cached(context) is None
    after_image = _grown(with_image, [_message(3, "x" * 404)], 10)  # 101 tokens
    assert after_image.messages[0].seq == 3  # the image left the window: it may be kept
    assert after_image.with_attachments == 0
    huge = (_message(1, "y" * 4 * (MAX_CACHED_TOKENS + 1)),)
    context.remember("sid", Window(huge, _tokens(huge), 100, _tokens(huge)))
    assert _cached(context) is None


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "context.db")
    await store.open()
    session = Session(
        key="k", session_id="sid", agent_id="echo", created_at=1, updated_at=1, etag="e"
    )
    await store.write(lambda tx: tx.insert_session(session))
    try:
        yield store
    finally:
        await store.close()


async def _append(store: SqliteStore, seqs: range, chars: int = 8) -> None:
    def write(tx: WriteTx) -> None:
        for seq in seqs:
            tx.append_message(_message(seq, f"{seq:0{chars}d}"))

    await store.write(write)


async def _read(store: SqliteStore, fn: Callable[[ReadTx], T]) -> T:
    return await store.read(fn)


async def test_a_cold_read_stops_once_the_budget_is_held(store: SqliteStore) -> None:
    await _append(store, range(1, 501))  # 500 entries of 2 tokens
    context = TranscriptContext()
    window = await _read(store, lambda tx: context.newest(tx, "sid", 100))
    assert [m.seq for m in window.messages] == list(range(450, 501))  # 51 entries: 102
    assert (window.tokens, window.earlier) == (102, 449)
    whole = await _read(store, lambda tx: context.newest(tx, "sid", 5_000))
    assert [m.seq for m in whole.messages] == list(range(1, 501))
    capped = TranscriptContext(max_entries=70)
    bounded = await _read(store, lambda tx: capped.newest(tx, "sid", 5_000))
    assert [m.seq for m in bounded.messages] == list(range(431, 501))


async def test_a_warm_window_reads_only_new_rows_and_a_new_budget_rereads(
    store: SqliteStore,
) -> None:
    await _append(store, range(1, 101))
    context = TranscriptContext()
    first = await _read(store, lambda tx: context.newest(tx, "sid", 50))
    assert first.earlier == 74  # 26 entries hold 52 tokens
    await _append(store, range(101, 111))
    grown = await _read(store, lambda tx: context.newest(tx, "sid", 50))
    assert grown.messages[:-10] == first.messages[10:], "the same entries, not read again"
    assert [m.seq for m in grown.messages] == list(range(85, 111))
    wider = await _read(store, lambda tx: context.newest(tx, "sid", 80))
    assert [m.seq for m in wider.messages] == list(range(70, 111))


async def test_a_starting_write_reads_only_a_few_rows(store: SqliteStore) -> None:
    """`newest_if_cached` (used inside the write that starts a run) reads at most
    `max_read` rows; past that it answers None and the run reads its context itself."""
    await _append(store, range(1, 11))
    context = TranscriptContext()
    cold = await _read(store, lambda tx: context.newest_if_cached(tx, "sid", 1_000, 4))
    assert cold is None  # ten rows, none cached
    small = await _read(store, lambda tx: context.newest_if_cached(tx, "sid", 1_000, 10))
    assert small is not None
    assert [m.seq for m in small.messages] == list(range(1, 11))
    assert _cached(context) is None  # not remembered until the caller commits
    context.remember("sid", small)
    await _append(store, range(11, 14))
    warm = await _read(store, lambda tx: context.newest_if_cached(tx, "sid", 1_000, 4))
    assert warm is not None
    assert [m.seq for m in warm.messages][-4:] == [10, 11, 12, 13]
    await _append(store, range(14, 20))
    behind = await _read(store, lambda tx: context.newest_if_cached(tx, "sid", 1_000, 4))
    assert behind is None  # six rows behind the cache
