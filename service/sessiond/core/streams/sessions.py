"""The WatchSessions feed: every session change, resumable by global cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sessiond.bus.base import SubscriptionClosed, SubscriptionOverflow
from sessiond.core.committer import FEED_TOPIC, Committer
from sessiond.core.rules import SessionRules
from sessiond.core.streams.follower import (
    CursorFollower,
    OnLive,
    global_position,
    retained_from,
)
from sessiond.core.tenancy import Caller
from sessiond.domain.errors import InvalidArgument, Unavailable
from sessiond.domain.events import Event
from sessiond.domain.tenants import in_namespace
from sessiond.store.base import ReadTx

FEED_PENDING = 1024


@dataclass(frozen=True, slots=True)
class FeedFilter:
    agent_id: str = ""
    keys: frozenset[str] = frozenset()
    namespace: str | None = None
    """The caller's tenant's (None: every tenant's): the feed carries all of them."""

    def accepts(self, event: Event) -> bool:
        if event.reason is None or not in_namespace(event.session_key, self.namespace):
            return False
        if self.keys and event.session_key not in self.keys:
            return False
        if self.agent_id:
            return event.session is not None and event.session.agent_id == self.agent_id
        return True


class SessionFeed:
    def __init__(self, committer: Committer, rules: SessionRules) -> None:
        self.committer = committer
        self.rules = rules

    async def watch(
        self,
        caller: Caller,
        *,
        after_cursor: int,
        start_at_end: bool,
        agent_id: str,
        keys: list[str],
        on_live: OnLive | None = None,
    ) -> AsyncIterator[Event]:
        """Session changes after `after_cursor` (or from now, `start_at_end`), filtered.
        An overflowed subscription is replaced and the feed catches up from the store.
        `on_live` is called once the first replay is done."""
        if after_cursor < 0:
            raise InvalidArgument("after_cursor", "after_cursor must not be negative")
        wanted = FeedFilter(
            agent_id=self.rules.agent(agent_id)[0] if agent_id.strip() else "",
            keys=frozenset(self.rules.stored_key(caller, k, "keys") for k in keys),
            namespace=caller.scope,
        )
        store, bus = self.committer.store, self.committer.bus
        # An expired cursor is found by the follower's first read, with what it replays.
        after = await store.read(lambda tx: tx.head_global_seq()) if start_at_end else after_cursor

        async def read_after(position: int, limit: int) -> tuple[int, list[Event]]:
            return await store.read(lambda tx: (_retained(tx), tx.feed_after(position, limit)))

        follower = CursorFollower(
            bus.subscribe(FEED_TOPIC, FEED_PENDING),
            read_after,
            global_position,
            after,
            from_oldest=after == 0,
        )
        try:
            while True:
                async for event in follower.replay():
                    if wanted.accepts(event):
                        yield event
                if on_live is not None:
                    await on_live()
                    on_live = None
                try:
                    async for message in follower.live():
                        if isinstance(message, Event) and wanted.accepts(message):
                            yield message
                except SubscriptionOverflow:
                    follower.resubscribe(bus.subscribe(FEED_TOPIC, FEED_PENDING))
                except SubscriptionClosed:
                    raise Unavailable("server shutting down; reconnect with after_cursor") from None
        finally:
            follower.close()


def _retained(tx: ReadTx) -> int:
    return retained_from(tx.oldest_global_seq(), tx.head_global_seq())
