"""The WatchSessions feed: every session change, resumable by global cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sessiond.core.errors import CursorExpired, InvalidArgument
from sessiond.core.events import FEED_TOPIC, EventLog
from sessiond.core.feed import follow
from sessiond.core.models import Event
from sessiond.core.rules import SessionRules


@dataclass(frozen=True, slots=True)
class FeedFilter:
    agent_id: str = ""
    keys: frozenset[str] = frozenset()

    def accepts(self, event: Event) -> bool:
        if event.reason is None:
            return False
        if self.keys and event.session_key not in self.keys:
            return False
        if self.agent_id:
            session = event.payload.get("session") or {}
            return bool(session.get("agent_id") == self.agent_id)
        return True


async def watch_sessions(
    log: EventLog,
    rules: SessionRules,
    *,
    after_cursor: int,
    start_at_end: bool,
    agent_id: str,
    keys: list[str],
) -> AsyncIterator[Event]:
    if after_cursor < 0:
        raise InvalidArgument("after_cursor", "after_cursor must not be negative")
    wanted = FeedFilter(
        agent_id=rules.agent(agent_id)[0] if agent_id.strip() else "",
        keys=frozenset(rules.key(k, "keys") for k in keys),
    )
    store = log.store
    oldest, head = await store.read(lambda tx: (tx.oldest_global_seq(), tx.head_global_seq()))
    after = head if start_at_end else after_cursor
    retained_from = oldest or head + 1
    if not start_at_end and after_cursor and after_cursor + 1 < retained_from:
        raise CursorExpired(after_cursor, retained_from)

    async def read_after(position: int, limit: int) -> list[Event]:
        return await store.read(lambda tx: tx.feed_after(position, limit))

    async for event in follow(log.bus, FEED_TOPIC, read_after, _global_position, after):
        if wanted.accepts(event):
            yield event


def _global_position(event: Event) -> int:
    return event.global_seq
