"""The newest entries of a transcript a run may send its agent, read incrementally.

A run's request carries as much of the newest history as its agent's token budget
(`context_tokens`) allows (`conversation.fit` makes the cut). This module reads the
*window* that cut is made in: the newest entries holding more than the budget (so the cut
can fall on a turn boundary), or the whole transcript when it holds less, and at most
MAX_WINDOW_ENTRIES entries whatever the budget.

Reading and decoding that window again for every run made the cost of a Send grow with
the conversation. Transcripts are append-only under their `session_id` (reset,
compaction and restore start a new one), so the window read for one run stays valid: the
next run of the session reads only the rows appended since, and trims the front. Reads
run in the store's reader threads and on its writer (a Send reads the context of the run
it starts in its own transaction), hence the lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from sessiond.domain.models import Message
from sessiond.domain.tokens import message_tokens, request_tokens
from sessiond.store.base import ReadTx

MAX_WINDOW_ENTRIES = 10_000
"""Entries a window holds at most, whatever the budget (a bound on every read)."""
MAX_TRANSCRIPTS = 128
MAX_CACHED_TOKENS = 250_000
"""Windows estimated larger than this (about 1 MB of text), or holding an attachment, are
not kept: they are read whole at each run."""
FIRST_PAGE = 64
LAST_PAGE = 1024
"""A cold read fetches pages of growing size, newest first, until the budget is covered."""


@dataclass(frozen=True, slots=True)
class Window:
    """The newest entries of a transcript, ascending by seq."""

    messages: tuple[Message, ...]
    tokens: int
    """Estimate of `messages` (`domain.tokens.message_tokens`)."""
    budget: int
    """The window holds more than this many tokens, or starts at the transcript's start."""
    sent: int
    """What a request carries of `messages` (`domain.tokens.request_tokens`), kept as the
    window grows: a run's cut (`conversation.fit`) then looks at a few entries, not all."""
    with_attachments: int = 0
    """Entries of `messages` with an attachment (such a window is not cached)."""

    @property
    def last_seq(self) -> int:
        return self.messages[-1].seq if self.messages else 0

    @property
    def earlier(self) -> int:
        """Entries of the transcript before the window (seqs are 1, 2, 3… with no gaps)."""
        return self.messages[0].seq - 1 if self.messages else 0


def _grown(window: Window, appended: Iterable[Message], limit: int) -> Window:
    """`window` with entries appended, trimmed at the front to the newest that hold more
    than its budget, and to `limit` entries. Counts only what is added or dropped."""
    messages = list(window.messages)
    tokens, attached, sent = window.tokens, window.with_attachments, window.sent
    for message in appended:
        messages.append(message)
        tokens += message_tokens(message)
        attached += bool(message.attachments)
        sent += request_tokens(message)
    drop = 0
    while len(messages) - drop > 1:
        first = messages[drop]
        cost = message_tokens(first)
        if tokens - cost <= window.budget and len(messages) - drop <= limit:
            break
        tokens -= cost
        attached -= bool(first.attachments)
        sent -= request_tokens(first)
        drop += 1
    return Window(tuple(messages[drop:]), tokens, window.budget, sent, attached)


class TranscriptContext:
    def __init__(
        self, max_entries: int = MAX_WINDOW_ENTRIES, transcripts: int = MAX_TRANSCRIPTS
    ) -> None:
        self.max_entries = max_entries
        self.transcripts = transcripts
        self._cache: OrderedDict[str, Window] = OrderedDict()
        self._lock = threading.Lock()

    def newest(self, tx: ReadTx, session_id: str, budget: int) -> Window:
        """The window of the transcript for `budget` tokens, silent entries included."""
        window = self._newest(tx, session_id, budget, max_read=None)
        assert window is not None  # without max_read it always reads
        return self.remember(session_id, window)

    def newest_if_cached(
        self, tx: ReadTx, session_id: str, budget: int, max_read: int
    ) -> Window | None:
        """`newest` when the cache holds all but at most `max_read` entries, else None; not
        remembered. For a write transaction, which must stay short: the caller calls
        `remember` once it has committed (only committed entries may be kept: a failed
        commit would leave entries whose seqs the next writes reuse)."""
        return self._newest(tx, session_id, budget, max_read=max_read)

    def _newest(
        self, tx: ReadTx, session_id: str, budget: int, max_read: int | None
    ) -> Window | None:
        with self._lock:
            cached = self._cache.get(session_id)
        head = tx.last_seq(session_id)
        if cached is None or head < cached.last_seq or cached.budget != budget:
            too_long = max_read is not None and head > max_read
            return None if too_long else self._read(tx, session_id, budget)
        if head == cached.last_seq:
            return cached
        if max_read is not None and head - cached.last_seq > max_read:
            return None
        appended = tx.list_messages(
            session_id, limit=self.max_entries, after_seq=cached.last_seq, include_silent=True
        )
        if len(appended) >= self.max_entries:
            return self._read(tx, session_id, budget)
        return _grown(cached, appended, self.max_entries)

    def _read(self, tx: ReadTx, session_id: str, budget: int) -> Window:
        """The window read newest first, a page at a time, until it holds the budget."""
        newest: list[Message] = []
        tokens = attached = sent = 0
        before, page = 0, FIRST_PAGE
        while tokens <= budget and len(newest) < self.max_entries:
            size = min(page, self.max_entries - len(newest))
            rows = tx.list_messages(
                session_id, limit=size, before_seq=before, newest_first=True, include_silent=True
            )
            for message in rows:
                newest.append(message)
                tokens += message_tokens(message)
                attached += bool(message.attachments)
                sent += request_tokens(message)
                if tokens > budget:
                    break
            if len(rows) < size:
                break
            before, page = rows[-1].seq, min(page * 2, LAST_PAGE)
        newest.reverse()
        return Window(tuple(newest), tokens, budget, sent, attached)

    def remember(self, session_id: str, window: Window) -> Window:
        """Keeps a committed window (from `newest`) for the next run of the transcript."""
        if not window.messages or window.with_attachments or window.tokens > MAX_CACHED_TOKENS:
            with self._lock:
                self._cache.pop(session_id, None)
            return window
        with self._lock:
            current = self._cache.get(session_id)
            if current is None or current.last_seq <= window.last_seq:
                self._cache[session_id] = window
                self._cache.move_to_end(session_id)
            while len(self._cache) > self.transcripts:
                self._cache.popitem(last=False)
        return window
