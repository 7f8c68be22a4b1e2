"""Run reads: GetRun, ListRuns and WaitRun."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sessiond.bus.base import SubscriptionClosed, SubscriptionOverflow
from sessiond.core.committer import Committer, chat_topic
from sessiond.core.paging import decode_token, encode_token, page_size
from sessiond.core.rules import SessionRules
from sessiond.core.sessions.manager import require
from sessiond.core.tenancy import Caller
from sessiond.domain.errors import InvalidArgument, RunNotFound
from sessiond.domain.events import Event, EventRef
from sessiond.domain.models import Run, RunStatus
from sessiond.store.base import ReadTx

WAIT_PENDING = 64
RECHECK_S = 2.0


class RunQueries:
    def __init__(self, committer: Committer, rules: SessionRules) -> None:
        self.committer = committer
        self.rules = rules

    async def get_run(self, caller: Caller, run_id: str) -> Run:
        wanted = run_id.strip()
        if not wanted:
            raise InvalidArgument("run_id", "run_id required")
        run = await self.committer.store.read(lambda tx: tx.get_run(wanted))
        if run is None or not caller.sees(run.session_key):
            raise RunNotFound(wanted)
        return run

    async def list_runs(
        self, caller: Caller, raw_key: str, status: RunStatus | None, size: int, token: str
    ) -> tuple[list[Run], str]:
        key = self.rules.stored_key(caller, raw_key, "session_key")
        limit = page_size(size, default=50, maximum=500)
        offset = int(decode_token(token, "runs")["o"]) if token else 0

        def read(tx: ReadTx) -> list[Run]:
            require(tx.get_session(key), key)
            return tx.list_runs(key, status, limit + 1, offset)

        rows = await self.committer.store.read(read)
        more = len(rows) > limit
        return rows[:limit], encode_token("runs", o=offset + limit) if more else ""

    async def wait_run(self, caller: Caller, run_id: str, timeout_s: float) -> Run:
        """The run once it has ended, or as it is when `timeout_s` passes."""
        run = await self.get_run(caller, run_id)
        if run.ended:
            return run
        return await await_end(self.committer, run, timeout_s)


async def await_end(
    committer: Committer,
    run: Run,
    timeout_s: float,
    *,
    before: Callable[[], Awaitable[None]] | None = None,
) -> Run:
    """`run` once it has ended (on any replica), or as it is when `timeout_s` passes.
    `before` runs once the end can no longer be missed (a request that ends the run)."""
    bus, store = committer.bus, committer.store
    topic = chat_topic(run.session_key)

    async def reread() -> Run:
        found = await store.read(lambda tx: tx.get_run(run.run_id))
        return found if found is not None else run

    subscription = bus.subscribe(topic, WAIT_PENDING)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        await subscription.ready()  # an end committed on another replica reaches it
        if before is not None:
            await before()
        run = await reread()  # it may have ended before the subscription
        while not run.ended and (remaining := deadline - loop.time()) > 0:
            try:
                # A lost bus message must not hold the wait: the store is read again
                # after a quiet moment.
                message = await subscription.get(min(remaining, RECHECK_S))
            except SubscriptionClosed:
                break
            except SubscriptionOverflow:
                subscription.close()
                subscription = bus.subscribe(topic, WAIT_PENDING)
                await subscription.ready()
                message = None
            if message is None or _may_end(message, run.run_id):
                run = await reread()
    finally:
        subscription.close()
    return run


def _may_end(message: object, run_id: str) -> bool:
    """Whether a bus message may be the end of `run_id` (a reference is read to know)."""
    if isinstance(message, EventRef):
        return message.run_id == run_id
    return isinstance(message, Event) and message.ends_run and message.run_id == run_id
