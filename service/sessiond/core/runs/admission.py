"""Admitting a Send or Steer: its checks, read once in the transaction that acts on them.

`admit` reads what a Send needs to know (its idempotency key, the session, the transcript's
length, the active run) and returns a verdict; the same transaction then starts or queues
the run. Only an interruption needs a second transaction: the active run must stop first.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

from sessiond.core import validation
from sessiond.core.rules import SessionRules
from sessiond.core.sessions.manager import require
from sessiond.core.tenancy import Caller
from sessiond.domain.errors import (
    Aborted,
    IdempotencyConflict,
    InvalidArgument,
    QueueFull,
    SendDenied,
    SessionBusy,
    SessiondError,
)
from sessiond.domain.models import Attachment, QueueMode, Run, RunStatus, SendPolicy, Session
from sessiond.store.base import ReadTx

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
class CheckedSend:
    """A Send whose fields passed validation: canonical key, normalised text."""

    key: str
    text: str
    request: SendInput
    digest: str
    """Identifies the request for its idempotency key (`request_hash`)."""
    steer: bool
    caller: Caller


class Verdict(enum.Enum):
    START = "start"
    """Nothing is active: the run starts now."""
    QUEUE = "queue"
    """A run is active and the queue mode enqueues: the run waits its turn."""
    DUPLICATE = "duplicate"
    """The idempotency key was used by this same request: answer with its run."""
    CONFLICT = "conflict"
    """The Send cannot go ahead (`error` says why)."""
    INTERRUPT = "interrupt"
    """A run is active and must stop first (Steer, or queue mode INTERRUPT)."""


@dataclass(frozen=True, slots=True)
class Admission:
    verdict: Verdict
    session: Session | None = None
    duplicate: Run | None = None
    error: SessiondError | None = None


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


def checked(rules: SessionRules, caller: Caller, request: SendInput, steer: bool) -> CheckedSend:
    """The request's fields validated (INVALID_ARGUMENT naming the first bad one)."""
    key = rules.stored_key(caller, request.session_key, "session_key", write=True)
    text = validation.message_text(request.text, has_attachments=bool(request.attachments))
    _check_attachments(request.attachments)
    validation.level(request.thinking, "thinking", validation.THINKING_LEVELS)
    if request.timeout_ms < 0:
        raise InvalidArgument("timeout_ms", "timeout_ms must not be negative")
    if len(request.idempotency_key) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise InvalidArgument("idempotency_key", "idempotency_key longer than 256 characters")
    if request.expected_last_seq is not None and request.expected_last_seq < 0:
        raise InvalidArgument("expected_last_seq", "expected_last_seq must not be negative")
    digest = request_hash(text, request, steer)
    return CheckedSend(key, text, request, digest, steer, caller)


def admit(
    tx: ReadTx, send: CheckedSend, max_queued: int, *, after_interrupt: bool = False
) -> Admission:
    """The verdict on `send` as the store stands in `tx`. `after_interrupt`: the active run
    was stopped for this Send, whose transcript expectation was checked before (the
    partial reply that stop saved must not count against it)."""
    session = require(tx.get_session(send.key), send.key)
    idempotency_key = send.request.idempotency_key
    if idempotency_key:
        existing = tx.find_run_by_idempotency(send.key, session.instance_id, idempotency_key)
        if existing is not None:
            if existing.request_hash == send.digest:
                return Admission(Verdict.DUPLICATE, session, duplicate=existing)
            conflict = IdempotencyConflict(
                "idempotency_key was used with a different request",
                metadata={"run_id": existing.run_id},
            )
            return Admission(Verdict.CONFLICT, session, error=conflict)
    if session.send_policy is SendPolicy.DENY:
        denied = SendDenied(f"sending to {send.key} is denied by its send_policy")
        return Admission(Verdict.CONFLICT, session, error=denied)
    expected = send.request.expected_last_seq
    if expected is not None and not after_interrupt:
        last = tx.last_seq(session.session_id)
        if last > expected:
            moved = Aborted(
                f"the transcript moved past seq {expected}", metadata={"last_seq": str(last)}
            )
            return Admission(Verdict.CONFLICT, session, error=moved)
    admission = _with_active_run(session, send, after_interrupt)
    queued = admission.verdict is Verdict.QUEUE
    if queued and tx.count_runs(send.key, RunStatus.QUEUED) >= max_queued:
        return Admission(Verdict.CONFLICT, session, error=QueueFull(send.key, max_queued))
    return admission


def _with_active_run(session: Session, send: CheckedSend, after_interrupt: bool) -> Admission:
    active = session.active_run_id
    if not active:
        return Admission(Verdict.START, session)
    if after_interrupt:
        # Another run started since the interruption: this one goes first in the queue.
        return Admission(Verdict.QUEUE, session)
    if send.steer or session.queue_mode is QueueMode.INTERRUPT:
        return Admission(Verdict.INTERRUPT, session)
    if session.queue_mode is QueueMode.REJECT:
        return Admission(Verdict.CONFLICT, session, error=SessionBusy(send.key, active))
    return Admission(Verdict.QUEUE, session)
