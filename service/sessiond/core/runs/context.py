"""The transcript a run sends its agent, read incrementally.

A run's request carries the newest `CONTEXT_MESSAGES` entries of its transcript. Reading
and decoding all of them again for every run made the cost of a Send grow with the
length of the conversation (a thousand JSON rows per reply). Transcripts are append-only
under their `session_id` (reset, compaction and restore start a new one), so the entries
read for one run stay valid: the next run of the session reads only the rows appended
since. Reads run in the store's reader threads and on its writer (a Send reads the
context of the run it starts in its own transaction), hence the lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from operator import attrgetter

from sessiond.domain.models import Message
from sessiond.store.base import ReadTx

CONTEXT_MESSAGES = 1000
MAX_TRANSCRIPTS = 128
MAX_CACHED_CHARS = 1_000_000
"""Transcripts holding more text than this (or any attachment) are read whole each time."""


@dataclass(frozen=True, slots=True)
class _Cached:
    last_seq: int
    messages: tuple[Message, ...]
    """Ascending by seq: the newest `limit` entries up to `last_seq`."""
    chars: int
    """Text and tool-input characters of `messages` (none has an attachment)."""


_TEXT = attrgetter("text")
_TOOL_INPUT = attrgetter("tool_input")
_ATTACHMENTS = attrgetter("attachments")


def _chars(messages: tuple[Message, ...]) -> int | None:
    """Characters of the entries; None when one has an attachment (never cached)."""
    if any(map(_ATTACHMENTS, messages)):
        return None
    return sum(map(len, map(_TEXT, messages))) + sum(map(len, map(_TOOL_INPUT, messages)))


def _chars_after(current: _Cached | None, messages: tuple[Message, ...]) -> int | None:
    """`_chars(messages)`, counting only what changed when `messages` continues the
    entries `current` holds (the same objects, appended to and trimmed at the front):
    every run remembers up to CONTEXT_MESSAGES entries."""
    if current is None or not current.messages:
        return _chars(messages)
    overlap = len(messages) - (messages[-1].seq - current.last_seq)
    if (
        not 0 < overlap <= len(current.messages)
        or messages[overlap - 1] is not current.messages[-1]
    ):
        return _chars(messages)
    appended = _chars(messages[overlap:])
    if appended is None:
        return None
    dropped = current.messages[: len(current.messages) - overlap]
    return current.chars + appended - (_chars(dropped) or 0)


class TranscriptContext:
    def __init__(self, limit: int = CONTEXT_MESSAGES, transcripts: int = MAX_TRANSCRIPTS) -> None:
        self.limit = limit
        self.transcripts = transcripts
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._lock = threading.Lock()

    def newest(self, tx: ReadTx, session_id: str) -> tuple[Message, ...]:
        """The newest `limit` entries of the transcript, silent ones included, ascending."""
        messages = self._newest(tx, session_id, max_read=None)
        assert messages is not None  # without max_read it always reads
        return self.remember(session_id, messages)

    def newest_if_cached(
        self, tx: ReadTx, session_id: str, max_read: int
    ) -> tuple[Message, ...] | None:
        """`newest` when the cache holds all but at most `max_read` entries, else None; not
        remembered. For a write transaction, which must stay short: the caller calls
        `remember` once it has committed (only committed entries may be kept: a failed
        commit would leave entries whose seqs the next writes reuse)."""
        return self._newest(tx, session_id, max_read=max_read)

    def _newest(
        self, tx: ReadTx, session_id: str, max_read: int | None
    ) -> tuple[Message, ...] | None:
        with self._lock:
            cached = self._cache.get(session_id)
        head = tx.last_seq(session_id)
        if cached is None or head < cached.last_seq:
            too_long = max_read is not None and head > max_read
            return None if too_long else self._read_all(tx, session_id)
        if head == cached.last_seq:
            return cached.messages
        if max_read is not None and head - cached.last_seq > max_read:
            return None
        appended = tx.list_messages(
            session_id, limit=self.limit, after_seq=cached.last_seq, include_silent=True
        )
        if len(appended) >= self.limit:
            return self._read_all(tx, session_id)
        return (*cached.messages, *appended)[-self.limit :]

    def _read_all(self, tx: ReadTx, session_id: str) -> tuple[Message, ...]:
        newest = tx.list_messages(
            session_id, limit=self.limit, newest_first=True, include_silent=True
        )
        return tuple(reversed(newest))

    def remember(self, session_id: str, messages: tuple[Message, ...]) -> tuple[Message, ...]:
        """Keeps committed entries (from `newest`) for the next run of the transcript."""
        with self._lock:
            current = self._cache.get(session_id)
        chars = _chars_after(current, messages) if messages else None
        if chars is None or chars > MAX_CACHED_CHARS:
            with self._lock:
                self._cache.pop(session_id, None)
            return messages
        entry = _Cached(messages[-1].seq, messages, chars)
        with self._lock:
            current = self._cache.get(session_id)
            if current is None or current.last_seq <= entry.last_seq:
                self._cache[session_id] = entry
                self._cache.move_to_end(session_id)
            while len(self._cache) > self.transcripts:
                self._cache.popitem(last=False)
        return messages
