"""The WatchSessions feed: every session change, resumable by global cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sessiond.core.errors import InvalidArgument
from sessiond.core.events import FEED_TOPIC, EventLog
from sessiond.core.feed import follow, retained_from
from sessiond.core.models import Event
from sessiond.core.rules import SessionRules
from sessiond.store.base import ReadTx


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
    # An expired cursor is found by `follow`'s first read, with the events it replays.
    after = await store.read(lambda tx: tx.head_global_seq()) if start_at_end else after_cursor

    async def read_after(position: int, limit: int) -> tuple[int, list[Event]]:
        return await store.read(lambda tx: (_retained(tx), tx.feed_after(position, limit)))

    async for event in follow(log.bus, FEED_TOPIC, read_after, _global_position, after):
        if wanted.accepts(event):
            yield event


def _global_position(event: Event) -> int:
    return event.global_seq


def _retained(tx: ReadTx) -> int:
    return retained_from(tx.oldest_global_seq(), tx.head_global_seq())
