"""CompactSession: checkpoint the transcript, then start a shorter generation."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sessiond.agents.base import AgentRequest
from sessiond.core.directory import AgentDirectory
from sessiond.core.errors import Aborted, InvalidArgument
from sessiond.core.events import EventLog, append_event
from sessiond.core.models import (
    Checkpoint,
    Event,
    EventKind,
    Message,
    Role,
    Session,
    SessionEventReason,
    Usage,
    new_id,
    now_ms,
)
from sessiond.core.runs import RunService
from sessiond.core.sessions import new_etag, require
from sessiond.core.transcripts import estimate_tokens, new_generation, read_transcript
from sessiond.store.base import ReadTx, WriteTx

MAX_CHECKPOINTS = 25
DEFAULT_KEEP_RECENT = 6


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


class Compactor:
    def __init__(self, log: EventLog, runs: RunService, agents: AgentDirectory) -> None:
        self.log = log
        self.runs = runs
        self.agents = agents

    async def compact(
        self,
        raw_key: str,
        max_lines: int | None = None,
        keep_recent: int | None = None,
        *,
        automatic: bool = False,
    ) -> CompactResult:
        key = self.runs.rules.key(raw_key)
        if max_lines is not None and max_lines < 1:
            raise InvalidArgument("max_lines", "max_lines must be at least 1")
        if keep_recent is not None and keep_recent < 0:
            raise InvalidArgument("keep_recent", "keep_recent must not be negative")
        session = await self.log.store.read(lambda tx: require(tx.get_session(key), key))
        if automatic and session.has_active_run:
            # Automatic compaction never stops a run; the next run's end tries again.
            return CompactResult(session, False, reason="a run is active")
        async with self.runs.paused(key):
            return await self._compact(key, max_lines, keep_recent, automatic)

    async def _compact(
        self, key: str, max_lines: int | None, keep_recent: int | None, automatic: bool
    ) -> CompactResult:
        def read(tx: ReadTx) -> tuple[Session, list[Message]]:
            session = require(tx.get_session(key), key)
            return session, read_transcript(tx, session.session_id)

        session, messages = await self.log.store.read(read)
        tail = (
            max_lines
            if max_lines is not None
            else (DEFAULT_KEEP_RECENT if keep_recent is None else keep_recent)
        )
        if len(messages) <= tail:
            why = f"the transcript has {len(messages)} entries, not more than {tail}"
            return CompactResult(session, False, reason=why)
        kept = messages[len(messages) - tail :] if tail else []
        summary = "" if max_lines is not None else await self._summary(session, messages, kept)
        plan = _Plan(session, messages, kept, summary, automatic)
        return await self.log.commit(lambda tx, events: _apply(tx, events, plan))

    async def _summary(self, session: Session, messages: list[Message], kept: list[Message]) -> str:
        older = tuple(messages[: len(messages) - len(kept)])
        spec = self.agents.get(session.agent_id)
        request = AgentRequest(
            agent_id=session.agent_id,
            model=session.model or spec.model,
            system_prompt=spec.system_prompt,
            transcript=older,
        )
        return await spec.backend.summarize(request) or "(no summary)"


def _apply(tx: WriteTx, events: list[Event], plan: _Plan) -> CompactResult:
    session = require(tx.get_session(plan.source.key), plan.source.key)
    if session.session_id != plan.source.session_id or session.active_run_id:
        raise Aborted("the session changed during compaction; retry")
    ts = now_ms()
    entries = plan.entries(ts)
    tokens_before, tokens_after = estimate_tokens(plan.messages), estimate_tokens(entries)
    checkpoint = Checkpoint(
        checkpoint_id=new_id(),
        session_key=session.key,
        session_id=session.session_id,
        created_at=ts,
        reason="auto_compact" if plan.automatic else "compact",
        tokens_before=tokens_before,
        tokens_after=tokens_after,
        message_count_before=len(plan.messages),
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
    body = {
        "checkpoint_id": checkpoint.checkpoint_id,
        "replaced_from_seq": replaced[0].seq if replaced else 0,
        "replaced_to_seq": replaced[-1].seq if replaced else 0,
        "summary": plan.summary,
        "tokens_before": tokens_before,
        "tokens_after": tokens_after,
        "session_id": compacted.session_id,
        "automatic": plan.automatic,
    }
    append_event(
        tx,
        events,
        compacted,
        EventKind.COMPACTION,
        ts,
        reason=SessionEventReason.COMPACT,
        body=body,
    )
    return CompactResult(
        compacted,
        True,
        checkpoint_id=checkpoint.checkpoint_id,
        tokens_before=tokens_before,
        tokens_after=tokens_after,
        kept=len(plan.kept),
    )


class AutoCompaction:
    """Compacts a session after a run when its context grew past `threshold_tokens`."""

    def __init__(self, compactor: Compactor, threshold_tokens: int) -> None:
        self.compactor = compactor
        self.threshold_tokens = threshold_tokens

    async def after_run(self, session_key: str) -> None:
        store = self.compactor.log.store
        session = await store.read(lambda tx: tx.get_session(session_key))
        if session is None or session.usage.context_tokens <= self.threshold_tokens:
            return
        try:
            await self.compactor.compact(session_key, automatic=True)
        except Aborted:
            return  # the session moved on meanwhile; its next run's end tries again
