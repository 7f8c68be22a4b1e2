"""Send, Steer, Abort and run queries: one active run per session, queue modes."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from sessiond.core import validation
from sessiond.core.errors import (
    Aborted,
    IdempotencyConflict,
    InvalidArgument,
    RunNotFound,
    SendDenied,
    SessionBusy,
    SessiondError,
)
from sessiond.core.events import EventLog, session_changed
from sessiond.core.executor import RunExecutor, RunInputs
from sessiond.core.models import (
    Attachment,
    Event,
    Message,
    QueueMode,
    Role,
    Run,
    RunStatus,
    SendPolicy,
    Session,
    SessionEventReason,
    SessionStatus,
    new_id,
    now_ms,
)
from sessiond.core.outcome import Outcome, append_run_started, finish_run, start_next
from sessiond.core.registry import RunRegistry
from sessiond.core.rules import SessionRules
from sessiond.core.run_queries import RunQueries
from sessiond.core.sessions import new_etag, require
from sessiond.store.base import ReadTx, WriteTx

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_IDEMPOTENCY_KEY_CHARS = 256


@dataclass(frozen=True, slots=True)
class SendInput:
    session_key: str
    text: str
    attachments: tuple[Attachment, ...] = ()
    idempotency_key: str = ""
    thinking: str = ""
    timeout_ms: int = 0
    expected_last_seq: int | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    run: Run
    status: str  # started | queued | duplicate
    session_key: str
    interrupted_run_id: str = ""
    inputs: RunInputs | None = None
    """A started run's request inputs, read by the write that started it."""


@dataclass(frozen=True, slots=True)
class AbortResult:
    session_key: str
    aborted_run_id: str = ""
    cancelled_run_ids: tuple[str, ...] = ()


def _check_attachments(attachments: tuple[Attachment, ...]) -> None:
    for index, attachment in enumerate(attachments):
        field = f"attachments[{index}]"
        if not attachment.mime_type.startswith("image/"):
            raise InvalidArgument(f"{field}.mime_type", "attachments must be images (image/*)")
        if len(attachment.data) > MAX_ATTACHMENT_BYTES:
            raise InvalidArgument(f"{field}.data", "attachment larger than 5 MB")
        if not attachment.data:
            raise InvalidArgument(f"{field}.data", "attachment is empty")


def request_hash(text: str, request: SendInput, steer: bool) -> str:
    digest = hashlib.sha256()
    for part in (text, request.thinking, str(request.timeout_ms), str(steer)):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\x00")
    for attachment in request.attachments:
        digest.update(attachment.mime_type.encode() + hashlib.sha256(attachment.data).digest())
    return digest.hexdigest()


class RunService(RunQueries):
    def __init__(
        self, log: EventLog, rules: SessionRules, executor: RunExecutor, registry: RunRegistry
    ) -> None:
        self.log = log
        self.rules = rules
        self.executor = executor
        self.registry = registry

    # -- sending -------------------------------------------------------------------------

    def _validated(self, request: SendInput) -> tuple[str, str, SendInput]:
        key = self.rules.key(request.session_key, "session_key")
        text = validation.message_text(request.text, has_attachments=bool(request.attachments))
        _check_attachments(request.attachments)
        validation.level(request.thinking, "thinking", validation.THINKING_LEVELS)
        if request.timeout_ms < 0:
            raise InvalidArgument("timeout_ms", "timeout_ms must not be negative")
        if len(request.idempotency_key) > MAX_IDEMPOTENCY_KEY_CHARS:
            raise InvalidArgument("idempotency_key", "idempotency_key longer than 256 characters")
        if request.expected_last_seq is not None and request.expected_last_seq < 0:
            raise InvalidArgument("expected_last_seq", "expected_last_seq must not be negative")
        return key, text, request

    async def send(self, request: SendInput, *, steer: bool = False) -> SendResult:
        key, text, request = self._validated(request)
        digest = request_hash(text, request, steer)
        short = not request.attachments  # images (up to 5 MB each) are not a short write
        if not steer:
            # The common case in one write: it checks the idempotency key, the send
            # policy and the session itself, and stops at a session whose queue mode
            # interrupts (that needs the active run stopped first: the path below).
            try:
                result = await self.log.commit(
                    lambda tx, events: self._enqueue(
                        tx, events, key, text, request, digest, False, plain_only=True
                    ),
                    short=short,
                )
            except _Interrupts:
                pass
            else:
                if result.status == "started":
                    self.executor.launch(result.run, result.inputs)
                return result

        def check(tx: ReadTx) -> tuple[Run | None, Session]:
            duplicate = self._duplicate(tx, key, request.idempotency_key, digest)
            session = require(tx.get_session(key), key)
            if duplicate is None:
                _check_expected_seq(tx, session, request.expected_last_seq)
            return duplicate, session

        duplicate, session = await self.log.store.read(check)
        if duplicate is not None:
            return SendResult(duplicate, "duplicate", key)
        if session.send_policy is SendPolicy.DENY:
            raise SendDenied(f"sending to {key} is denied by its send_policy")
        interrupting = steer or session.queue_mode is QueueMode.INTERRUPT
        interrupted = await self.interrupt(key) if interrupting else ""
        # Checked above, before the interruption: the partial reply it saves moves the
        # transcript, which must not count against the client's expectation.
        checked = replace(request, expected_last_seq=None) if interrupted else request
        try:
            result = await self.log.commit(
                lambda tx, events: self._enqueue(
                    tx, events, key, text, checked, digest, interrupting
                ),
                short=short,
            )
        except BaseException:
            if interrupted:
                await self.advance(key)
            raise
        if result.status == "started":
            self.executor.launch(result.run, result.inputs)
        return replace(result, interrupted_run_id=interrupted)

    @staticmethod
    def _duplicate(tx: ReadTx, key: str, idempotency_key: str, digest: str) -> Run | None:
        if not idempotency_key:
            return None
        existing = tx.find_run_by_idempotency(key, idempotency_key)
        if existing is not None and existing.request_hash != digest:
            raise IdempotencyConflict(
                "idempotency_key was used with a different request",
                metadata={"run_id": existing.run_id},
            )
        return existing

    def _enqueue(
        self,
        tx: WriteTx,
        events: list[Event],
        key: str,
        text: str,
        request: SendInput,
        digest: str,
        steer: bool,
        *,
        plain_only: bool = False,
    ) -> SendResult:
        duplicate = self._duplicate(tx, key, request.idempotency_key, digest)
        if duplicate is not None:
            return SendResult(duplicate, "duplicate", key)
        session = require(tx.get_session(key), key)
        if session.send_policy is SendPolicy.DENY:
            raise SendDenied(f"sending to {key} is denied by its send_policy")
        if plain_only and session.queue_mode is QueueMode.INTERRUPT:
            raise _Interrupts(key)
        _check_expected_seq(tx, session, request.expected_last_seq)
        busy = session.active_run_id
        if busy and session.queue_mode is QueueMode.REJECT and not steer:
            raise SessionBusy(key, busy)
        ts = now_ms()
        run_id = new_id()
        message = tx.append_message(
            Message(
                session.session_id,
                0,
                Role.USER,
                text,
                ts,
                run_id=run_id,
                attachments=request.attachments,
            )
        )
        run = Run(
            run_id=run_id,
            session_key=key,
            session_id=session.session_id,
            status=RunStatus.QUEUED,
            created_at=ts,
            idempotency_key=request.idempotency_key,
            request_hash=digest,
            message_seq=message.seq,
            timeout_ms=request.timeout_ms,
            thinking=request.thinking,
            priority=1 if steer else 0,
        )
        if not busy:
            run = replace(run, status=RunStatus.RUNNING, started_at=ts)
            session = replace(
                session, active_run_id=run_id, status=SessionStatus.RUNNING, started_at=ts
            )
        session = replace(session, updated_at=ts, etag=new_etag(), message_count=message.seq)
        reason = SessionEventReason.STEER if steer else SessionEventReason.SEND
        first = session_changed(tx, events, session, reason, ts, run_id=run_id)
        run = replace(run, first_cursor=first.cursor)
        tx.insert_run(run)
        tx.update_session(session)
        if busy:
            return SendResult(run, "queued", key)
        append_run_started(tx, events, session, run, ts)
        inputs = self.executor.inputs_in_write(tx, run)
        return SendResult(run, "started", key, inputs=inputs)

    async def interrupt(self, key: str) -> str:
        """Stops the session's active run (stop reason `interrupted`) without starting the
        next queued one; returns its id (or ""). The caller calls `advance` when done."""
        run_id = await self._active_run_id(key)
        if run_id:
            await self._stop(run_id, "interrupted")
        return run_id

    @contextlib.asynccontextmanager
    async def paused(self, key: str) -> AsyncIterator[None]:
        """Stops the active run (`interrupted`) for a mutation, then restarts the queue."""
        interrupted = await self.interrupt(key)
        try:
            yield
        finally:
            if interrupted:
                await self.advance(key)

    def cancel_queued(self, tx: WriteTx, events: list[Event], key: str) -> None:
        for run in tx.list_runs(key, RunStatus.QUEUED, limit=10_000, offset=0):
            finish_run(tx, events, run.run_id, Outcome(stop_reason="aborted", advance=False))

    async def advance(self, key: str) -> None:
        def write(tx: WriteTx, events: list[Event]) -> tuple[Run, RunInputs | None] | None:
            session = tx.get_session(key)
            run = start_next(tx, events, session) if session else None
            return (run, self.executor.inputs_in_write(tx, run)) if run else None

        started = await self.log.commit(write, short=True)
        if started is not None:
            self.executor.launch(*started)

    # -- stopping ------------------------------------------------------------------------

    async def _active_run_id(self, key: str) -> str:
        session = await self.log.store.read(lambda tx: tx.get_session(key))
        return session.active_run_id if session else ""

    async def _stop(self, run_id: str, reason: str) -> None:
        """Stops a running run and waits until its end is recorded."""
        active = self.registry.get(run_id)
        if active is not None:
            active.request_stop(reason)
            await asyncio.shield(active.done.wait())
            return
        # Not executing (yet): committed RUNNING by a write whose caller has not launched
        # it, or left by a process that died. Record the end directly, and make sure the
        # launch that may still come (or came while this was committing) stops.
        outcome = Outcome(stop_reason=reason, advance=reason != "interrupted")
        next_run = await self.log.commit(
            lambda tx, ev: finish_run(tx, ev, run_id, outcome), short=True
        )
        launched = self.registry.get(run_id)
        if launched is not None:
            launched.request_stop(reason)
            await asyncio.shield(launched.done.wait())
        else:
            self.registry.closed_before_launch(run_id)
        if next_run is not None:
            self.executor.launch(next_run)

    async def abort(self, raw_key: str, run_id: str, clear_queue: bool) -> AbortResult:
        if not raw_key.strip() and not run_id.strip():
            raise InvalidArgument("session_key", "session_key or run_id required")
        key = self.rules.key(raw_key, "session_key") if raw_key.strip() else ""
        target: Run | None = None
        if run_id.strip():
            target = await self.log.store.read(lambda tx: tx.get_run(run_id.strip()))
            if target is None:
                raise RunNotFound(run_id)
            if key and target.session_key != key:
                raise InvalidArgument("run_id", "run_id belongs to another session")
            key = target.session_key
        else:
            await self.log.store.read(lambda tx: require(tx.get_session(key), key))
        cancelled = await self._cancel_queued(key, target, clear_queue)
        if target is None:
            active = await self._active_run_id(key)
            if active:
                await self._stop(active, "aborted")
                return AbortResult(key, active, cancelled)
        elif target.status is RunStatus.RUNNING:
            await self._stop(target.run_id, "aborted")
            return AbortResult(key, target.run_id, cancelled)
        elif target.run_id in cancelled:
            return AbortResult(
                key, target.run_id, tuple(c for c in cancelled if c != target.run_id)
            )
        return AbortResult(key, "", cancelled)

    async def _cancel_queued(
        self, key: str, target: Run | None, clear_queue: bool
    ) -> tuple[str, ...]:
        def write(tx: WriteTx, events: list[Event]) -> tuple[str, ...]:
            queued = tx.list_runs(key, RunStatus.QUEUED, limit=10_000, offset=0)
            chosen = [r for r in queued if clear_queue or (target and r.run_id == target.run_id)]
            for run in chosen:
                finish_run(tx, events, run.run_id, Outcome(stop_reason="aborted", advance=False))
            return tuple(r.run_id for r in chosen)

        if not clear_queue and (target is None or target.status is not RunStatus.QUEUED):
            return ()
        return await self.log.commit(write)


class _Interrupts(SessiondError):
    """Internal: the session's queue mode interrupts, so Send takes the path that stops
    the active run first. Never reaches a client; a SessiondError so the store does not
    log it as a failed write."""


def _check_expected_seq(tx: ReadTx, session: Session, expected: int | None) -> None:
    """ABORTED when the transcript moved past what the client last saw (double texting)."""
    if expected is None:
        return
    last = tx.last_seq(session.session_id)
    if last > expected:
        raise Aborted(f"the transcript moved past seq {expected}", metadata={"last_seq": str(last)})
