"""The one table from domain errors to gRPC status codes with google.rpc details."""

from __future__ import annotations

import re

import grpc
import structlog
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from sessiond.api.callers import current_caller
from sessiond.domain import errors

log = structlog.get_logger(__name__)

DOMAIN = "sessiond"
DETAILS_KEY = "grpc-status-details-bin"

# Most specific first: the first class an error is an instance of decides its code.
STATUS_TABLE: tuple[tuple[type[errors.SessiondError], grpc.StatusCode], ...] = (
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.Aborted, grpc.StatusCode.ABORTED),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (errors.OutOfRange, grpc.StatusCode.OUT_OF_RANGE),
    (errors.Unimplemented, grpc.StatusCode.UNIMPLEMENTED),
    (errors.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
)


def status_code_of(error: errors.SessiondError) -> grpc.StatusCode:
    for cls, code in STATUS_TABLE:
        if isinstance(error, cls):
            return code
    return grpc.StatusCode.INTERNAL


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


# Error texts may echo client input; cut them so the status fits in any client's
# metadata limit (8 KiB is common) instead of turning into RESOURCE_EXHAUSTED.
# Counted in UTF-8 bytes: grpc-message is percent-encoded (up to 3x) and the details are
# base64 (4/3x), and both travel in the trailers beside the request id.
MAX_MESSAGE_BYTES = 400
MAX_METADATA_VALUE_BYTES = 160


def _cut(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8", "replace")
    if len(encoded) <= max_bytes:
        return text
    return encoded[: max_bytes - 3].decode("utf-8", "ignore") + "…"


def rich_status(
    code: grpc.StatusCode,
    message: str,
    reason: str,
    metadata: dict[str, str],
    field: str = "",
    retry_after_ms: int = 0,
) -> status_pb2.Status:
    message = _cut(message, MAX_MESSAGE_BYTES)
    metadata = {k: _cut(v, MAX_METADATA_VALUE_BYTES) for k, v in metadata.items()}
    field = _cut(field, MAX_METADATA_VALUE_BYTES)
    info = error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=metadata)
    details = [_pack(info)]
    if field:
        violation = error_details_pb2.BadRequest.FieldViolation(field=field, description=message)
        details.append(_pack(error_details_pb2.BadRequest(field_violations=[violation])))
    if retry_after_ms > 0:
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(retry_after_ms)
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status_pb2.Status(code=code.value[0], message=message, details=details)


def _hide_namespace(space: str) -> re.Pattern[str] | None:
    """Matches the caller's namespace where it starts a stored key in a text: not inside
    a longer word or key (a public key may itself contain `tenant:<id>:` after a colon)."""
    return re.compile(rf"(?<![\w:]){re.escape(space)}") if space else None


def to_status(
    error: errors.SessiondError, hidden_namespace: str = ""
) -> tuple[grpc.StatusCode, status_pb2.Status]:
    """The status of a domain error; keys it names of `hidden_namespace` (the caller's)
    are shown public: no stored prefix ever reaches a client."""
    code = status_code_of(error)
    field = error.field if isinstance(error, errors.InvalidArgument) else ""
    message, metadata = error.message, error.metadata
    pattern = _hide_namespace(hidden_namespace)
    if pattern is not None:
        message = pattern.sub("", message)
        metadata = {k: pattern.sub("", v) for k, v in metadata.items()}
    return code, rich_status(
        code, message, error.reason, metadata, field, retry_after_ms=error.retry_after_ms
    )


def internal_status() -> status_pb2.Status:
    return rich_status(grpc.StatusCode.INTERNAL, "internal error", "INTERNAL", {})


async def abort_with(context: grpc.aio.ServicerContext[object, object], exc: BaseException) -> None:
    """Ends the call with the mapped status; unexpected errors become a generic INTERNAL."""
    if isinstance(exc, errors.SessiondError):
        caller = current_caller()
        code, status = to_status(exc, caller.scope or "")
    else:
        # The log line carries the request id (bound by the interceptor); the client gets
        # a generic message: exception texts may hold internals.
        log.error("rpc.internal_error", error_type=type(exc).__name__, exc_info=exc)
        code, status = grpc.StatusCode.INTERNAL, internal_status()
    await abort_status(context, code, status)


async def abort_status(
    context: grpc.aio.ServicerContext[object, object],
    code: grpc.StatusCode,
    status: status_pb2.Status,
) -> None:
    """Ends the call with `status` in the details header, keeping the trailing metadata
    already set (the request id): abort's own `trailing_metadata` would replace it."""
    trailing = (*(context.trailing_metadata() or ()), (DETAILS_KEY, status.SerializeToString()))
    await context.abort(code, status.message, trailing_metadata=trailing)


async def abort_deadline(context: grpc.aio.ServicerContext[object, object]) -> None:
    """Ends a call whose deadline passed while the server was still working on it."""
    code = grpc.StatusCode.DEADLINE_EXCEEDED
    await abort_status(
        context, code, rich_status(code, "deadline exceeded", "DEADLINE_EXCEEDED", {})
    )
