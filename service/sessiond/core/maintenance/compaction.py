"""CompactSession: checkpoint the transcript, then start a shorter generation."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sessiond.agents.base import AgentRequest
from sessiond.core.committer import Committer, record
from sessiond.core.rules import SessionRules
from sessiond.core.runs.agents import AgentDirectory
from sessiond.core.runs.conversation import Conversation, fit
from sessiond.core.sessions.manager import RunControl, require
from sessiond.core.sessions.transcripts import (
    MAX_TRANSCRIPT,
    estimate_tokens,
    new_generation,
    read_transcript,
)
from sessiond.core.tenancy import Caller
from sessiond.domain.clock import now_ms
from sessiond.domain.errors import Aborted, InvalidArgument
from sessiond.domain.events import Compaction as Compacted
from sessiond.domain.events import Event
from sessiond.domain.ids import new_etag, new_id
from sessiond.domain.models import (
    Checkpoint,
    Message,
    Role,
    Session,
    SessionEventReason,
    Usage,
)
from sessiond.store.base import ReadTx, WriteTx

MAX_CHECKPOINTS = 25
DEFAULT_KEEP_RECENT = 6
SUMMARY_INSTRUCTION_TOKENS = 64
"""Room kept in a summary request's budget for the backend's instruction to summarise."""


@dataclass(frozen=True, slots=True)
class CompactResult:
    session: Session
    compacted: bool
    reason: str = ""
    checkpoint_id: str = ""
    tokens_before: int = 0
    tokens_after: int = 0
    kept: int = 0


@dataclass(frozen=True, slots=True)
class _Plan:
    """What replaces the transcript: an optional summary, then the kept tail."""

    source: Session
    messages: list[Message]
    kept: list[Message]
    summary: str
    automatic: bool

    @property
    def replaced(self) -> list[Message]:
        return self.messages[: len(self.messages) - len(self.kept)]

    def entries(self, ts: int) -> list[Message]:
        head = (
            [Message(self.source.session_id, 0, Role.SYSTEM, self.summary, ts, label="summary")]
            if self.summary
            else []
        )
        return head + self.kept


class Compaction:
    """Replaces a transcript by a shorter generation: the mechanism, for a session whose
    run is stopped (CompactSession) or that is idle (automatic compaction)."""

    def __init__(self, committer: Committer, agents: AgentDirectory) -> None:
        self.committer = committer
        self.agents = agents

    async def run(
        self, key: str, max_lines: int | None, keep_recent: int | None, automatic: bool
    ) -> CompactResult:
        def read(tx: ReadTx) -> tuple[Session, list[Message]]:
            session = require(tx.get_session(key), key)
            return session, read_transcript(tx, session.session_id)

        session, messages = await self.committer.store.read(read)
        tail = kept_entries(max_lines, keep_recent)
        if len(messages) <= tail:
            return CompactResult(session, False, reason=_nothing_to_compact(len(messages), tail))
        kept = messages[len(messages) - tail :] if tail else []
        summary = "" if max_lines is not None else await self._summary(session, messages, kept)
        plan = _Plan(session, messages, kept, summary, automatic)
        return await self.committer.commit(lambda tx, events: _apply(tx, events, plan))

    async def _summary(self, session: Session, messages: list[Message], kept: list[Message]) -> str:
        older = messages[: len(messages) - len(kept)]
        spec = self.agents.get(session.agent_id)
        # The request keeps to the agent's budget as a run's does (a model refuses a longer
        # one): the newest part of the older entries that fits, in conversation order.
        budget = max(0, spec.transcript_budget - SUMMARY_INSTRUCTION_TOKENS)
        ordered = Conversation(older, run_id="").ordered(None, waiting=frozenset())
        request = AgentRequest(
            agent_id=session.agent_id,
            model=session.model or spec.model,
            system_prompt=spec.system_prompt,
            transcript=fit(ordered, budget, earlier=0).messages,
        )
        return await spec.backend.summarize(request) or "(no summary)"


def kept_entries(max_lines: int | None, keep_recent: int | None) -> int:
    """How many of the newest entries a compaction keeps as they are."""
    if max_lines is not None:
        return max_lines
    return DEFAULT_KEEP_RECENT if keep_recent is None else keep_recent


def _nothing_to_compact(entries: int, tail: int) -> str:
    return f"the transcript has {entries} entries, not more than {tail}"


def _apply(tx: WriteTx, events: list[Event], plan: _Plan) -> CompactResult:
    """Commits the plan. What arrived while the summary was written (a Send and the run it
    started, tool entries) is carried after the kept tail, so nothing fails or stops for
    it; only a reset or restore meanwhile (another transcript) makes the plan stale."""
    session = require(tx.get_session(plan.source.key), plan.source.key)
    if session.session_id != plan.source.session_id:
        raise Aborted("the session was reset or restored during compaction; retry")
    ts = now_ms()
    last_read = plan.messages[-1].seq if plan.messages else 0
    arrived = tx.list_messages(
        session.session_id, limit=MAX_TRANSCRIPT, after_seq=last_read, include_silent=True
    )
    entries = plan.entries(ts) + arrived
    before = plan.messages + arrived
    tokens_before, tokens_after = estimate_tokens(before), estimate_tokens(entries)
    checkpoint = Checkpoint(
        checkpoint_id=new_id(),
        session_key=session.key,
        session_id=session.session_id,
        created_at=ts,
        reason="auto_compact" if plan.automatic else "compact",
        tokens_before=tokens_before,
        tokens_after=tokens_after,
        message_count_before=len(before),
    )
    tx.archive_transcript(session.session_id, "compact", ts)
    tx.insert_checkpoint(checkpoint)
    for old in tx.list_checkpoints(session.key)[MAX_CHECKPOINTS:]:
        tx.delete_checkpoint(old.checkpoint_id)
    compacted = new_generation(tx, session, entries)
    compacted = replace(
        compacted,
        compaction_count=session.compaction_count + 1,
        usage=replace(
            Usage(),
            total_tokens=tokens_after,
            context_tokens=tokens_after,
            estimated_cost_usd=session.usage.estimated_cost_usd,
        ),
        updated_at=ts,
        etag=new_etag(),
    )
    tx.update_session(compacted)
    replaced = plan.replaced
    body = Compacted(
        checkpoint_id=checkpoint.checkpoint_id,
        replaced_from_seq=replaced[0].seq if replaced else 0,
        replaced_to_seq=replaced[-1].seq if replaced else 0,
        summary=plan.summary,
        tokens_before=tokens_before,
        tokens_after=tokens_after,
        session_id=compacted.session_id,
        automatic=plan.automatic,
    )
    record(tx, events, compacted, ts, body, reason=SessionEventReason.COMPACT)
    return CompactResult(
        compacted,
        True,
        checkpoint_id=checkpoint.checkpoint_id,
        tokens_before=tokens_before,
        tokens_after=tokens_after,
        kept=len(plan.kept),
    )


class Compactor:
    """CompactSession: stops the session's active run first, then compacts."""

    def __init__(self, compaction: Compaction, runs: RunControl, rules: SessionRules) -> None:
        self.compaction = compaction
        self.runs = runs
        self.rules = rules

    async def compact(
        self,
        caller: Caller,
        raw_key: str,
        max_lines: int | None = None,
        keep_recent: int | None = None,
    ) -> CompactResult:
        key = self.rules.stored_key(caller, raw_key, write=True)
        if max_lines is not None and max_lines < 1:
            raise InvalidArgument("max_lines", "max_lines must be at least 1")
        if keep_recent is not None and keep_recent < 0:
            raise InvalidArgument("keep_recent", "keep_recent must not be negative")
        store = self.compaction.committer.store
        session = await store.read(lambda tx: require(tx.get_session(key), key))
        tail = kept_entries(max_lines, keep_recent)
        # Stopping the active run would add its reply: count it as an entry already.
        entries = session.message_count + (1 if session.has_active_run else 0)
        if entries <= tail:
            # Nothing to compact: the active run goes on.
            return CompactResult(session, False, reason=_nothing_to_compact(entries, tail))
        async with self.runs.paused(key):
            return await self.compaction.run(key, max_lines, keep_recent, automatic=False)


class AutoCompaction:
    """Compacts a session after a run when its context grew past `threshold_tokens`; never
    stops a run (an active one makes it wait for the next run's end)."""

    def __init__(self, compaction: Compaction, threshold_tokens: int) -> None:
        self.compaction = compaction
        self.threshold_tokens = threshold_tokens

    async def after_run(self, session_key: str) -> None:
        store = self.compaction.committer.store
        session = await store.read(lambda tx: tx.get_session(session_key))
        if session is None or session.usage.context_tokens <= self.threshold_tokens:
            return
        if session.has_active_run:
            return
        try:
            await self.compaction.run(session_key, None, None, automatic=True)
        except Aborted:
            return  # the session moved on meanwhile; its next run's end tries again
