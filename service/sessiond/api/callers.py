"""The caller of the RPC being served, set by the auth layer for the call's task.

Without auth every call is the default tenant's, by no one in particular (`ANONYMOUS`).
"""

from __future__ import annotations

import contextvars

from sessiond.core.tenancy import Caller

ANONYMOUS = Caller()
_CALLER: contextvars.ContextVar[Caller] = contextvars.ContextVar("sessiond_caller")


def current_caller() -> Caller:
    return _CALLER.get(ANONYMOUS)


def set_caller(caller: Caller) -> None:
    """Binds `caller` to the current call (each call runs in a task of its own)."""
    _CALLER.set(caller)
