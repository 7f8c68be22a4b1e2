"""Domain errors. The api layer maps each class to a gRPC status in one table."""

from __future__ import annotations


class SessiondError(Exception):
    """Base of every error a client may see. `reason` is UPPER_SNAKE, domain `sessiond`."""

    reason = "INTERNAL"
    retry_after_ms = 0
    """When waiting this long may help (a quota's window frees), the client is told so
    (google.rpc.RetryInfo); 0: not said."""

    def __init__(self, message: str, *, metadata: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.metadata = dict(metadata or {})


class InvalidArgument(SessiondError):
    """A request field is malformed. `field` names it (dotted path)."""

    reason = "INVALID_ARGUMENT"

    def __init__(self, field: str, message: str, *, reason: str | None = None) -> None:
        super().__init__(message, metadata={"field": field})
        self.field = field
        if reason is not None:
            self.reason = reason


class ModelNotServed(InvalidArgument):
    def __init__(self, model: str, agent_id: str, served: tuple[str, ...], field: str) -> None:
        super().__init__(
            field,
            f"model {model!r} is not served by agent {agent_id}; it serves: {', '.join(served)}",
            reason="MODEL_NOT_SERVED",
        )
        self.metadata |= {"model": model, "agent_id": agent_id, "models": ",".join(served)}


class UnknownAgent(InvalidArgument):
    def __init__(self, agent_id: str, field: str = "agent_id") -> None:
        super().__init__(field, f"unknown agent: {agent_id}", reason="UNKNOWN_AGENT")


class NotFound(SessiondError):
    reason = "NOT_FOUND"


class SessionNotFound(NotFound):
    reason = "SESSION_NOT_FOUND"

    def __init__(self, key: str, *, what: str = "session") -> None:
        super().__init__(f"{what} not found: {key}", metadata={"key": key})


class TranscriptNotFound(NotFound):
    reason = "TRANSCRIPT_NOT_FOUND"

    def __init__(self, session_id: str) -> None:
        super().__init__(f"transcript not found: {session_id}", metadata={"session_id": session_id})


class RunNotFound(NotFound):
    reason = "RUN_NOT_FOUND"

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run not found: {run_id}", metadata={"run_id": run_id})


class CheckpointNotFound(NotFound):
    reason = "CHECKPOINT_NOT_FOUND"

    def __init__(self, checkpoint_id: str) -> None:
        super().__init__(
            f"checkpoint not found: {checkpoint_id}",
            metadata={"checkpoint_id": checkpoint_id},
        )


class AttachmentNotFound(NotFound):
    reason = "ATTACHMENT_NOT_FOUND"

    def __init__(self, session_id: str, seq: int, index: int, *, what: str) -> None:
        super().__init__(
            f"{what} not found in transcript {session_id}",
            metadata={"session_id": session_id, "seq": str(seq), "index": str(index)},
        )


class AlreadyExists(SessiondError):
    reason = "ALREADY_EXISTS"


class LabelInUse(AlreadyExists):
    reason = "LABEL_IN_USE"

    def __init__(self, label: str) -> None:
        super().__init__("label already in use", metadata={"label": label})


class IdempotencyConflict(AlreadyExists):
    reason = "IDEMPOTENCY_CONFLICT"


class FailedPrecondition(SessiondError):
    reason = "FAILED_PRECONDITION"


class MainSessionProtected(FailedPrecondition):
    reason = "MAIN_SESSION_PROTECTED"

    def __init__(self, key: str) -> None:
        super().__init__(f"cannot delete the main session ({key})", metadata={"key": key})


class LabelAmbiguous(FailedPrecondition):
    reason = "LABEL_AMBIGUOUS"

    def __init__(self, label: str, keys: list[str]) -> None:
        super().__init__(
            f"label {label!r} matches several sessions; pass agent_id",
            metadata={"label": label, "keys": ",".join(keys)},
        )


class SessionBusy(FailedPrecondition):
    reason = "SESSION_BUSY"

    def __init__(self, key: str, active_run_id: str) -> None:
        super().__init__(
            f"session {key} has an active run", metadata={"active_run_id": active_run_id}
        )


class Aborted(SessiondError):
    """A concurrency check failed; the client may re-read and retry."""

    reason = "ABORTED"


class EtagMismatch(Aborted):
    reason = "ETAG_MISMATCH"

    def __init__(self, key: str, current_etag: str) -> None:
        super().__init__(
            f"etag does not match the current version of {key}",
            metadata={"key": key, "etag": current_etag},
        )


class PermissionDenied(SessiondError):
    reason = "PERMISSION_DENIED"


class SendDenied(PermissionDenied):
    reason = "SEND_DENIED"


class OutOfRange(SessiondError):
    reason = "OUT_OF_RANGE"


class CursorExpired(OutOfRange):
    reason = "CURSOR_EXPIRED"

    def __init__(self, after_cursor: int, oldest_cursor: int) -> None:
        super().__init__(
            f"cursor {after_cursor} is older than the oldest retained event {oldest_cursor}",
            metadata={"oldest_cursor": str(oldest_cursor)},
        )


class Unimplemented(SessiondError):
    reason = "UNIMPLEMENTED"


class Unavailable(SessiondError):
    reason = "UNAVAILABLE"


class ResourceExhausted(SessiondError):
    reason = "RESOURCE_EXHAUSTED"


class QueueFull(ResourceExhausted):
    reason = "QUEUE_FULL"

    def __init__(self, key: str, max_queued_runs: int) -> None:
        super().__init__(
            f"session {key} already has {max_queued_runs} queued runs; wait for one to end",
            metadata={"key": key, "max_queued_runs": str(max_queued_runs)},
        )


class QuotaExceeded(ResourceExhausted):
    """A tenant quota is used up (`quota` names it: max_sessions, max_runs_per_minute,
    max_concurrent_runs or max_queued_runs)."""

    reason = "QUOTA_EXCEEDED"

    def __init__(self, quota: str, limit: int, tenant: str, retry_after_ms: int = 0) -> None:
        super().__init__(
            f"tenant {tenant} is at its {quota} quota ({limit})",
            metadata={"quota": quota, "limit": str(limit), "tenant": tenant},
        )
        self.retry_after_ms = retry_after_ms


class BudgetExceeded(FailedPrecondition):
    """A budget is spent: the session's (`session_cost_usd`, `session_tokens`) or the
    tenant's (`daily_cost_usd`, `monthly_cost_usd`, `daily_tokens`, `monthly_tokens`)."""

    reason = "BUDGET_EXCEEDED"

    def __init__(self, budget: str, limit: str, spent: str) -> None:
        super().__init__(
            f"the {budget} budget is spent ({spent} of {limit})",
            metadata={"budget": budget, "limit": limit, "spent": spent},
        )


class NotRunOwner(PermissionDenied):
    """The run's abort policy is `owner` and another token started it."""

    reason = "NOT_RUN_OWNER"

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"run {run_id} was started by another token; its abort_policy is owner",
            metadata={"run_id": run_id},
        )
