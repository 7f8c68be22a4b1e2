"""Bearer-token auth: the one table of required scopes and the layer enforcing it.

Tokens arrive as `authorization: Bearer <token>` metadata. Each configured token grants
one scope level (admin ⊃ write ⊃ read). Health and reflection stay open so probes and
grpcurl work without a token.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import grpc
import structlog
from sessiond.api import wrapping
from sessiond.api.callers import set_caller
from sessiond.api.errors import abort_status, rich_status
from sessiond.api.wrapping import Layer, Req, Resp
from sessiond.core.tenancy import Caller
from sessiond.settings import TokenConfig


class Scope(enum.IntEnum):
    """Scope levels; a higher level includes every lower one."""

    READ = 1
    WRITE = 2
    ADMIN = 3


_SESSION = "/sessiond.v1.SessionService/"
_CHAT = "/sessiond.v1.ChatService/"
_READ = (
    f"{_SESSION}GetSession",
    f"{_SESSION}ListSessions",
    f"{_SESSION}ResolveSession",
    f"{_SESSION}PreviewSessions",
    f"{_SESSION}ListMessages",
    f"{_SESSION}GetAttachment",
    f"{_SESSION}ListArchives",
    f"{_SESSION}WatchSessions",
    f"{_SESSION}ListCheckpoints",
    f"{_SESSION}GetCheckpoint",
    f"{_SESSION}GetUsage",
    f"{_CHAT}WatchChat",
    f"{_CHAT}GetRun",
    f"{_CHAT}WaitRun",
    f"{_CHAT}ListRuns",
)
_WRITE = (
    f"{_SESSION}CreateSession",
    f"{_SESSION}BranchCheckpoint",
    f"{_CHAT}Send",
    f"{_CHAT}Steer",
    f"{_CHAT}Abort",
    f"{_CHAT}Chat",
)
_ADMIN = (
    f"{_SESSION}UpdateSession",
    f"{_SESSION}ResetSession",
    f"{_SESSION}DeleteSession",
    f"{_SESSION}CompactSession",
    f"{_SESSION}RestoreCheckpoint",
    f"{_SESSION}CleanupSessions",
    f"{_SESSION}UpdatePluginState",
    f"{_CHAT}InjectMessage",
)
REQUIRED_SCOPE: dict[str, Scope] = {
    **dict.fromkeys(_READ, Scope.READ),
    **dict.fromkeys(_WRITE, Scope.WRITE),
    **dict.fromkeys(_ADMIN, Scope.ADMIN),
}
"""The scope each RPC needs. A sessiond method missing here needs `admin` (fail closed);
a test checks the table against the services' descriptors."""

OPEN_PREFIXES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
)
"""Services every caller may use without a token."""


def required_scope(method: str) -> Scope | None:
    """The scope `method` needs; None when it is open."""
    if method.startswith(OPEN_PREFIXES):
        return None
    return REQUIRED_SCOPE.get(method, Scope.ADMIN)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who called: the token's name (for logs), its scope level, and as whom core sees it
    (its tenant)."""

    name: str
    scope: Scope
    caller: Caller


def principal_of(token: TokenConfig) -> Principal:
    scope = max(Scope[s.upper()] for s in token.scopes)
    caller = Caller(
        tenant=token.tenant,
        name=token.name,
        all_tenants=token.all_tenants and scope is Scope.ADMIN,
        admin=scope is Scope.ADMIN,
    )
    return Principal(token.name, scope, caller)


def _digest(token: str) -> bytes:
    # Comparing fixed-length digests keeps compare_digest from leaking the token length.
    return hashlib.sha256(token.encode()).digest()


class TokenTable:
    """Configured tokens; lookups take the same time whichever token (if any) matches."""

    def __init__(self, tokens: Iterable[TokenConfig]) -> None:
        self._entries = [(_digest(t.token), principal_of(t)) for t in tokens]

    def __bool__(self) -> bool:
        return bool(self._entries)

    def authenticate(self, presented: str) -> Principal | None:
        digest = _digest(presented)
        found: Principal | None = None
        for expected, principal in self._entries:  # no early exit: constant time
            if hmac.compare_digest(expected, digest):
                found = principal
        return found


def bearer_token(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    """The token of an `authorization: Bearer <token>` header; None when absent."""
    for key, value in metadata or ():
        if key.lower() != "authorization" or not isinstance(value, str):
            continue
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return ""  # present but not a bearer token: invalid rather than missing
    return None


Denial = Callable[[grpc.aio.ServicerContext[object, object]], Awaitable[None]]


def _deny(code: grpc.StatusCode, message: str, reason: str, **metadata: str) -> Denial:
    status = rich_status(code, message, reason, metadata)

    async def deny(context: grpc.aio.ServicerContext[object, object]) -> None:
        await abort_status(context, code, status)

    return deny


_MISSING = _deny(grpc.StatusCode.UNAUTHENTICATED, "missing bearer token", "TOKEN_MISSING")
_INVALID = _deny(grpc.StatusCode.UNAUTHENTICATED, "invalid bearer token", "TOKEN_INVALID")


class _Guard:
    """What every call of one guarded method shares."""

    __slots__ = ("required", "tokens", "too_low")

    def __init__(self, tokens: TokenTable, method: str, required: Scope) -> None:
        self.tokens = tokens
        self.required = required
        scope = required.name.lower()
        self.too_low = {
            granted: _deny(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{method.rsplit('/', 1)[-1]} needs the {scope} scope",
                "INSUFFICIENT_SCOPE",
                required_scope=scope,
                granted_scope=granted.name.lower(),
            )
            for granted in Scope
            if granted < required
        }


class _GuardedCall:
    __slots__ = ("context", "guard")

    def __init__(self, context: wrapping.Ctx, guard: _Guard) -> None:
        self.context = context
        self.guard = guard

    async def start(self) -> None:
        token = bearer_token(self.context.invocation_metadata())
        principal = self.guard.tokens.authenticate(token) if token else None
        if principal is None:
            await (_MISSING if token is None else _INVALID)(self.context)
            return
        if principal.scope < self.guard.required:
            await self.guard.too_low[principal.scope](self.context)
            return
        structlog.contextvars.bind_contextvars(
            principal=principal.name, tenant=principal.caller.tenant
        )
        set_caller(principal.caller)

    def received(self) -> None:
        pass

    def sent(self) -> None:
        pass

    def finish(self, error: BaseException | None) -> None:
        pass


def auth_layer(tokens: TokenTable) -> Layer:
    """Rejects calls without a valid token (UNAUTHENTICATED) or with too low a scope
    (PERMISSION_DENIED, ErrorInfo `INSUFFICIENT_SCOPE`) before the servicer runs."""

    def layer(method: str, handler: wrapping.Handler[Req, Resp]) -> wrapping.Handler[Req, Resp]:
        required = required_scope(method)
        if required is None:
            return handler
        guard = _Guard(tokens, method, required)
        return wrapping.wrap(handler, lambda context: _GuardedCall(context, guard))

    return layer
