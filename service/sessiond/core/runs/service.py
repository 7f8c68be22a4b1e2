"""Send, Steer and Abort: one active run per session, queue modes, stopping runs."""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from sessiond.core.committer import Committer, control_topic, session_changed
from sessiond.core.limits import TenantLimits
from sessiond.core.rules import SessionRules
from sessiond.core.runs.admission import (
    Admission,
    CheckedSend,
    SendInput,
    Verdict,
    admit,
    checked,
)
from sessiond.core.runs.budgets import Budgets
from sessiond.core.runs.ending import Outcome, append_run_started, finish_run, start_next
from sessiond.core.runs.executor import RunExecutor
from sessiond.core.runs.inputs import RunInputs
from sessiond.core.runs.permissions import AbortPolicies
from sessiond.core.runs.queries import await_end
from sessiond.core.runs.registry import RunRegistry
from sessiond.core.sessions.manager import require
from sessiond.core.tenancy import Caller
from sessiond.domain.clock import now_ms
from sessiond.domain.errors import InvalidArgument, RunNotFound
from sessiond.domain.events import Event, RunCommand, RunCommandAction
from sessiond.domain.ids import new_etag, new_id
from sessiond.domain.models import (
    Message,
    Role,
    Run,
    RunStatus,
    SessionEventReason,
    SessionStatus,
    StopReason,
)
from sessiond.domain.tenants import namespace_of
from sessiond.store.base import ReadTx, WriteTx

MAX_QUEUE_READ = 10_000


class SendStatus(enum.StrEnum):
    STARTED = "started"
    QUEUED = "queued"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class SendResult:
    run: Run
    status: SendStatus
    session_key: str
    interrupted_run_id: str = ""
    inputs: RunInputs | None = None
    """A started run's request inputs, read by the write that started it."""


@dataclass(frozen=True, slots=True)
class AbortResult:
    session_key: str
    aborted_run_id: str = ""
    cancelled_run_ids: tuple[str, ...] = ()


class RunService:
    def __init__(
        self,
        committer: Committer,
        rules: SessionRules,
        executor: RunExecutor,
        registry: RunRegistry,
        *,
        max_queued_runs: int = 20,
        stop_wait_s: float = 30.0,
        limits: TenantLimits | None = None,
    ) -> None:
        self.committer = committer
        self.limits = limits or TenantLimits()
        """Tenants' quotas, budgets and abort policies."""
        self.permissions = AbortPolicies(rules, self.limits)
        self.budgets = Budgets(self.limits)
        self.rules = rules
        self.executor = executor
        self.registry = registry
        self.max_queued_runs = max_queued_runs
        """Runs a session may have waiting; a Send past it is QUEUE_FULL."""
        self.ownership = executor.ownership
        self.stop_wait_s = stop_wait_s
        """How long a run executing on another replica may take to stop when asked."""

    # -- sending -------------------------------------------------------------------------

    async def send(self, caller: Caller, request: SendInput, *, steer: bool = False) -> SendResult:
        send = checked(self.rules, caller, request, steer)
        result = await self.committer.commit(lambda tx, events: self._admit(tx, events, send))
        if isinstance(result, SendResult):
            return self._launched(result)
        # The active run must stop first; then the Send is admitted again.
        interrupted = await self.interrupt(send.key)
        try:
            after = await self.committer.commit(
                lambda tx, events: self._admit(tx, events, send, after_interrupt=True)
            )
        except BaseException:
            if interrupted:
                await self.advance(send.key)
            raise
        assert isinstance(after, SendResult)  # after an interruption there is no other
        return replace(self._launched(after), interrupted_run_id=interrupted)

    def _launched(self, result: SendResult) -> SendResult:
        if result.status is SendStatus.STARTED:
            self.executor.launch(result.run, result.inputs)
        return result

    def _admit(
        self, tx: WriteTx, events: list[Event], send: CheckedSend, *, after_interrupt: bool = False
    ) -> SendResult | Admission:
        """The Send admitted and acted on; an INTERRUPT admission is returned as it is."""
        admission = admit(tx, send, self.max_queued_runs, after_interrupt=after_interrupt)
        verdict = admission.verdict
        if verdict is Verdict.DUPLICATE:
            assert admission.duplicate is not None
            return SendResult(admission.duplicate, SendStatus.DUPLICATE, send.key)
        if verdict is Verdict.CONFLICT:
            assert admission.error is not None
            raise admission.error
        now = now_ms()
        assert admission.session is not None
        # Refused while a budget is spent: the run would start (or wait) over it.
        self.budgets.check(tx, admission.session, now)
        if verdict is Verdict.INTERRUPT:
            self._check_may_interrupt(tx, send, admission)
            return admission
        starts = verdict is Verdict.START
        self.limits.admit_run(tx, namespace_of(send.key), starts=starts, now=now)
        return self._enqueue(tx, events, send, admission, interrupting=after_interrupt)

    def _enqueue(
        self,
        tx: WriteTx,
        events: list[Event],
        send: CheckedSend,
        admission: Admission,
        *,
        interrupting: bool,
    ) -> SendResult:
        session = admission.session
        assert session is not None
        ts = now_ms()
        run_id = new_id()
        message = tx.append_message(
            Message(
                session.session_id,
                0,
                Role.USER,
                send.text,
                ts,
                run_id=run_id,
                attachments=send.request.attachments,
            )
        )
        starts = admission.verdict is Verdict.START
        steered = send.steer or interrupting
        run = Run(
            run_id=run_id,
            session_key=send.key,
            session_id=session.session_id,
            status=RunStatus.RUNNING if starts else RunStatus.QUEUED,
            created_at=ts,
            idempotency_key=send.request.idempotency_key,
            request_hash=send.digest,
            message_seq=message.seq,
            timeout_ms=send.request.timeout_ms,
            thinking=send.request.thinking,
            priority=1 if steered else 0,
            started_at=ts if starts else 0,
            scope=session.instance_id,
            started_by=send.caller.name,
        )
        if starts:
            session = replace(
                session, active_run_id=run_id, status=SessionStatus.RUNNING, started_at=ts
            )
        session = replace(session, updated_at=ts, etag=new_etag(), message_count=message.seq)
        reason = SessionEventReason.STEER if steered else SessionEventReason.SEND
        first = session_changed(tx, events, session, reason, ts, run_id=run_id)
        run = replace(run, first_cursor=first.cursor)
        tx.insert_run(run)
        tx.update_session(session)
        if not starts:
            return SendResult(run, SendStatus.QUEUED, send.key)
        self.ownership.grant(tx, run)
        append_run_started(tx, events, session, run, ts)
        inputs = self.executor.inputs_in_write(tx, run)
        return SendResult(run, SendStatus.STARTED, send.key, inputs=inputs)

    def _check_may_interrupt(self, tx: ReadTx, send: CheckedSend, admission: Admission) -> None:
        """A Steer (or an interrupting Send) stops the active run: the abort policy applies."""
        session = admission.session
        active = tx.get_run(session.active_run_id) if session is not None else None
        if active is not None:
            self.permissions.check(send.caller, active)

    async def interrupt(self, key: str) -> str:
        """Stops the session's active run (stop reason `interrupted`) without starting the
        next queued one; returns its id (or ""). The caller calls `advance` when done."""
        run_id = await self._active_run_id(key)
        if run_id:
            await self._stop(run_id, StopReason.INTERRUPTED)
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
        for run in tx.list_runs(key, RunStatus.QUEUED, limit=MAX_QUEUE_READ, offset=0):
            finish_run(
                tx, events, run.run_id, Outcome(StopReason.ABORTED, advance=False), self.ownership
            )

    async def advance(self, key: str) -> None:
        def write(tx: WriteTx, events: list[Event]) -> tuple[Run, RunInputs | None] | None:
            session = tx.get_session(key)
            run = start_next(tx, events, session, self.ownership) if session else None
            return (run, self.executor.inputs_in_write(tx, run)) if run else None

        started = await self.committer.commit(write)
        if started is not None:
            self.executor.launch(*started)

    # -- stopping ------------------------------------------------------------------------

    async def _active_run_id(self, key: str) -> str:
        session = await self.committer.store.read(lambda tx: tx.get_session(key))
        return session.active_run_id if session else ""

    async def _stop(self, run_id: str, reason: StopReason) -> None:
        """Stops a running run and waits until its end is recorded."""
        active = self.registry.get(run_id)
        if active is not None:
            active.request_stop(reason)
            await asyncio.shield(active.done.wait())
            return
        if self.ownership.shared and await self._stopped_by_holder(run_id, reason):
            return
        # Not executing (yet): committed RUNNING by a write whose caller has not launched
        # it, or left by a process that died. Record the end directly, and make sure the
        # launch that may still come (or came while this was committing) stops.
        outcome = Outcome(reason, advance=reason is not StopReason.INTERRUPTED)
        next_run = await self.committer.commit(
            lambda tx, events: finish_run(tx, events, run_id, outcome, self.ownership)
        )
        launched = self.registry.get(run_id)
        if launched is not None:
            launched.request_stop(reason)
            await asyncio.shield(launched.done.wait())
        else:
            self.registry.closed_before_launch(run_id)
            self.ownership.forget(run_id)
        if next_run is not None:
            self.executor.launch(next_run)

    async def _stopped_by_holder(self, run_id: str, reason: StopReason) -> bool:
        """Asks the replica executing the run to stop it, and waits (up to two lease
        terms) for its end; False when no other replica holds it or none answered."""

        def read(tx: ReadTx) -> tuple[str, Run | None]:
            return self.ownership.holder(tx, run_id), tx.get_run(run_id)

        holder, run = await self.committer.store.read(read)
        if not holder or run is None:
            return False
        command = RunCommand(run_id, RunCommandAction.STOP, reason)

        async def ask() -> None:
            await self.committer.bus.publish(control_topic(holder), command)

        ended = await await_end(self.committer, run, self.stop_wait_s, before=ask)
        return ended.ended

    async def abort(
        self, caller: Caller, raw_key: str, run_id: str, clear_queue: bool
    ) -> AbortResult:
        if not raw_key.strip() and not run_id.strip():
            raise InvalidArgument("session_key", "session_key or run_id required")
        key = (
            self.rules.stored_key(caller, raw_key, "session_key", write=True)
            if raw_key.strip()
            else ""
        )
        target: Run | None = None
        if run_id.strip():
            target = await self.committer.store.read(lambda tx: tx.get_run(run_id.strip()))
            if target is None or not caller.sees(target.session_key):
                raise RunNotFound(run_id)
            caller.write_check(target.session_key)
            if key and target.session_key != key:
                raise InvalidArgument("run_id", "run_id belongs to another session")
            key = target.session_key
        # Refused before anything changes (the active run is checked again after the queue
        # is cancelled: another may have started meanwhile).
        stops = target if target is not None else await self._active_run(key, must_exist=True)
        if stops is not None and not stops.ended:
            self.permissions.check(caller, stops)
        cancelled = await self._cancel_queued(caller, key, target, clear_queue)
        if target is None:
            active = await self._active_run(key)
            if active is not None:
                self.permissions.check(caller, active)
                await self._stop(active.run_id, StopReason.ABORTED)
                return AbortResult(key, active.run_id, cancelled)
        elif target.status is RunStatus.RUNNING:
            await self._stop(target.run_id, StopReason.ABORTED)
            return AbortResult(key, target.run_id, cancelled)
        elif target.run_id in cancelled:
            return AbortResult(
                key, target.run_id, tuple(c for c in cancelled if c != target.run_id)
            )
        return AbortResult(key, "", cancelled)

    async def _active_run(self, key: str, *, must_exist: bool = False) -> Run | None:
        """The session's active run; SESSION_NOT_FOUND for a session gone, if it `must_exist`."""

        def read(tx: ReadTx) -> Run | None:
            session = tx.get_session(key)
            if must_exist:
                require(session, key)
            return tx.get_run(session.active_run_id) if session and session.active_run_id else None

        return await self.committer.store.read(read)

    async def _cancel_queued(
        self, caller: Caller, key: str, target: Run | None, clear_queue: bool
    ) -> tuple[str, ...]:
        """Cancels the target if queued and, with `clear_queue`, the queued runs the caller
        may stop (under the `owner` abort policy: its own)."""

        def chosen(run: Run) -> bool:
            if target is not None and run.run_id == target.run_id:
                return True
            return clear_queue and self.permissions.may_stop(caller, run)

        def write(tx: WriteTx, events: list[Event]) -> tuple[str, ...]:
            queued = tx.list_runs(key, RunStatus.QUEUED, limit=MAX_QUEUE_READ, offset=0)
            chosen_runs = [r for r in queued if chosen(r)]
            for run in chosen_runs:
                cancelled = Outcome(StopReason.ABORTED, advance=False)
                finish_run(tx, events, run.run_id, cancelled, self.ownership)
            return tuple(r.run_id for r in chosen_runs)

        if not clear_queue and (target is None or target.status is not RunStatus.QUEUED):
            return ()
        return await self.committer.commit(write)
