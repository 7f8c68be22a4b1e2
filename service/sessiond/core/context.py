"""The transcript a run sends its agent, read incrementally.

A run's request carries the newest `CONTEXT_MESSAGES` entries of its transcript. Reading
and decoding all of them again for every run made the cost of a Send grow with the
length of the conversation (a thousand JSON rows per reply). Transcripts are append-only
under their `session_id` (reset, compaction and restore start a new one), so the entries
read for one run stay valid: the next run of the session reads only the rows appended
since. Reads run in the store's reader threads, hence the lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from sessiond.core.models import Message
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


def _cacheable(messages: tuple[Message, ...]) -> bool:
    chars = 0
    for m in messages:
        if m.attachments:
            return False
        chars += len(m.text) + len(m.tool_input)
    return chars <= MAX_CACHED_CHARS


class TranscriptContext:
    def __init__(self, limit: int = CONTEXT_MESSAGES, transcripts: int = MAX_TRANSCRIPTS) -> None:
        self.limit = limit
        self.transcripts = transcripts
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._lock = threading.Lock()

    def newest(self, tx: ReadTx, session_id: str) -> tuple[Message, ...]:
        """The newest `limit` entries of the transcript, silent ones included, ascending."""
        with self._lock:
            cached = self._cache.get(session_id)
        head = tx.last_seq(session_id)
        if cached is None or head < cached.last_seq:
            return self._store(session_id, self._read_all(tx, session_id))
        if head == cached.last_seq:
            return cached.messages
        appended = tx.list_messages(
            session_id, limit=self.limit, after_seq=cached.last_seq, include_silent=True
        )
        if len(appended) >= self.limit:
            return self._store(session_id, self._read_all(tx, session_id))
        messages = (*cached.messages, *appended)[-self.limit :]
        return self._store(session_id, messages)

    def _read_all(self, tx: ReadTx, session_id: str) -> tuple[Message, ...]:
        newest = tx.list_messages(
            session_id, limit=self.limit, newest_first=True, include_silent=True
        )
        return tuple(reversed(newest))

    def _store(self, session_id: str, messages: tuple[Message, ...]) -> tuple[Message, ...]:
        if not messages or not _cacheable(messages):
            with self._lock:
                self._cache.pop(session_id, None)
            return messages
        entry = _Cached(messages[-1].seq, messages)
        with self._lock:
            current = self._cache.get(session_id)
            if current is None or current.last_seq <= entry.last_seq:
                self._cache[session_id] = entry
                self._cache.move_to_end(session_id)
            while len(self._cache) > self.transcripts:
                self._cache.popitem(last=False)
        return messages
