"""CleanupSessions: retention by age and count per agent, plus archive retention."""

from __future__ import annotations

import asyncio
import enum
from collections import defaultdict
from dataclasses import dataclass
from functools import partial

import structlog
from sessiond.core.committer import Committer, session_changed
from sessiond.core.keys import main_key
from sessiond.core.rules import SessionRules
from sessiond.domain.clock import now_ms
from sessiond.domain.errors import InvalidArgument
from sessiond.domain.events import Event
from sessiond.domain.models import Archive, Session, SessionEventReason
from sessiond.domain.tenants import canonical_of, namespace_of
from sessiond.store.base import ReadTx, SessionQuery, Store, WriteTx

log = structlog.get_logger(__name__)


class CleanupAction(enum.StrEnum):
    KEEP = "keep"
    PRUNE_STALE = "prune_stale"
    CAP_OVERFLOW = "cap_overflow"


KEEP, PRUNE_STALE, CAP_OVERFLOW = CleanupAction
ALL_SESSIONS = 1_000_000


@dataclass(frozen=True, slots=True)
class CleanupPolicy:
    max_age_ms: int = 0
    """Remove sessions not updated for this long; 0 keeps any age."""
    max_count: int = 0
    """Keep at most this many (newest) sessions per agent; 0 means no cap."""
    archive_max_age_ms: int = 0
    """Drop archived transcripts older than this (unless a checkpoint keeps them)."""
    agent_id: str = ""
    namespace: str | None = None
    """The tenant whose sessions are cleaned up (None: every tenant, each on its own)."""


@dataclass(frozen=True, slots=True)
class CleanupEntry:
    key: str
    action: CleanupAction
    updated_at: int


@dataclass(frozen=True, slots=True)
class CleanupReport:
    dry_run: bool
    entries: list[CleanupEntry]
    archives: list[Archive]

    def count(self, action: CleanupAction) -> int:
        return sum(1 for e in self.entries if e.action == action)


def plan(
    sessions: list[Session], policy: CleanupPolicy, protected: str, now: int
) -> list[CleanupEntry]:
    """The action for each session; the main session (`protected`, in each tenant) and
    active ones are always kept and do not count toward `max_count` (per tenant and
    agent)."""
    by_agent: defaultdict[tuple[str, str], list[Session]] = defaultdict(list)
    for session in sessions:
        by_agent[namespace_of(session.key), session.agent_id].append(session)
    entries: list[CleanupEntry] = []
    for group in by_agent.values():
        kept = 0
        for session in sorted(group, key=lambda s: (s.updated_at, s.key), reverse=True):
            if canonical_of(session.key) == protected or session.has_active_run:
                action = KEEP
            elif policy.max_age_ms and now - session.updated_at > policy.max_age_ms:
                action = PRUNE_STALE
            else:
                kept += 1
                action = CAP_OVERFLOW if policy.max_count and kept > policy.max_count else KEEP
            entries.append(CleanupEntry(session.key, action, session.updated_at))
    return entries


class Retention:
    def __init__(self, committer: Committer, rules: SessionRules) -> None:
        self.committer = committer
        self.rules = rules

    async def cleanup(self, policy: CleanupPolicy, *, dry_run: bool = True) -> CleanupReport:
        if policy.max_age_ms < 0:
            raise InvalidArgument("max_age", "max_age must not be negative")
        if policy.archive_max_age_ms < 0:
            raise InvalidArgument("archive_max_age", "archive_max_age must not be negative")
        if policy.max_count < 0:
            raise InvalidArgument("max_count", "max_count must not be negative")
        agent = self.rules.agent(policy.agent_id)[0] if policy.agent_id.strip() else ""
        now = now_ms()
        protected = main_key(self.rules.default_agent)

        space = policy.namespace

        def read(tx: ReadTx) -> tuple[list[Session], list[Archive]]:
            query = SessionQuery(agent_id=agent, namespace=space)
            sessions = tx.list_sessions(query, ALL_SESSIONS, None)
            old = policy.archive_max_age_ms
            return sessions, tx.archives_before(now - old, space) if old else []

        sessions, archives = await self.committer.store.read(read)
        entries = plan(sessions, policy, protected, now)
        if not dry_run:
            removed = await self.committer.commit(
                lambda tx, events: _enforce(tx, events, entries, archives)
            )
            entries = [
                e
                if e.key in removed or e.action == KEEP
                else CleanupEntry(e.key, KEEP, e.updated_at)
                for e in entries
            ]
        return CleanupReport(dry_run, entries, archives)


def _enforce(
    tx: WriteTx, events: list[Event], entries: list[CleanupEntry], archives: list[Archive]
) -> set[str]:
    """Removes what the plan says, skipping sessions that became active or changed since."""
    removed: set[str] = set()
    ts = now_ms()
    for entry in entries:
        if entry.action == KEEP:
            continue
        session = tx.get_session(entry.key)
        if session is None or session.has_active_run or session.updated_at != entry.updated_at:
            continue
        tx.archive_transcript(session.session_id, "cleanup", ts)
        for checkpoint in tx.list_checkpoints(session.key):
            tx.delete_checkpoint(checkpoint.checkpoint_id)
        tx.delete_session(session.key)
        session_changed(tx, events, session, SessionEventReason.CLEANUP, ts)
        removed.add(session.key)
    for archive in archives:
        tx.delete_transcript(archive.session_id)
    return removed


async def sweep_periodically(
    retention: Retention, policy: CleanupPolicy, interval_s: float
) -> None:
    """Applies `policy` every `interval_s` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            report = await retention.cleanup(policy, dry_run=False)
        except Exception:
            log.exception("cleanup.sweep_failed")
            continue
        removed = len(report.entries) - report.count(KEEP)
        if removed or report.archives:
            log.info("cleanup.swept", sessions=removed, archives=len(report.archives))


def _prune(tx: WriteTx, before_ts: int) -> int:
    return tx.prune_events(before_ts)


async def prune_events_periodically(store: Store, max_age_ms: int, interval_s: float) -> None:
    """Drops cursor-log events older than `max_age_ms` every `interval_s` seconds; a client
    resuming from a dropped cursor then gets OUT_OF_RANGE `CURSOR_EXPIRED`, never a gap."""
    while True:
        await asyncio.sleep(interval_s)
        cutoff = now_ms() - max_age_ms
        try:
            dropped = await store.write(partial(_prune, before_ts=cutoff))
        except Exception:
            log.exception("events.prune_failed")
            continue
        if dropped:
            log.info("events.pruned", events=dropped)
