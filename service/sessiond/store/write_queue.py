"""The queue of write functions a store's writer thread group-commits (SQLite, PostgreSQL).

Callers on the event loop put a `Job`; the writer takes the first, then whatever else is
queued (`take_group`, at most MAX_GROUP: that bounds the first one's wait), commits them
together and resolves each job's future on its loop. `None` in the queue closes it.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from sessiond.domain.errors import Unavailable
from sessiond.store.base import WriteTx

log = structlog.get_logger(__name__)

MAX_GROUP = 256
"""A group commit takes at most this many queued writes; bounds the latency of the first."""

Outcome = tuple[Any, BaseException | None]
"""A write function's result, or what it (or its group's commit) raised."""


@dataclass(slots=True)
class Job:
    fn: Callable[[WriteTx], Any]
    future: asyncio.Future[Any]
    kind: object | None = None
    """What the store knows this write function by (SQLite's short writes), if anything."""

    def resolve(self, result: Any, error: BaseException | None) -> None:
        """On the job's loop: hands over the outcome (unless the caller gave up)."""
        if self.future.done():
            return
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(result)

    def resolve_soon(self, outcome: Outcome) -> None:
        """From the writer thread: resolves the job on its loop."""
        self.future.get_loop().call_soon_threadsafe(self.resolve, *outcome)


Jobs = queue.SimpleQueue[Job | None]


def take_group(jobs: Jobs, group: list[Job]) -> bool:
    """Adds already-queued jobs to `group`; True when the close sentinel was seen."""
    while len(group) < MAX_GROUP:
        try:
            job = jobs.get_nowait()
        except queue.Empty:
            return False
        if job is None:
            return True
        group.append(job)
    return False


def failed(group: list[Job], exc: BaseException) -> list[Outcome]:
    """Every job of a group whose commit failed: UNAVAILABLE (the cause is logged)."""
    log.error("store.commit_failed", error=str(exc), writes=len(group))
    return [(None, Unavailable("storage write failed"))] * len(group)
