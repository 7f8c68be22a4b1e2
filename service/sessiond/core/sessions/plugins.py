"""UpdatePluginState: JSON state that plugins keep on a session."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sessiond.core import validation
from sessiond.core.committer import Committer, session_changed
from sessiond.core.rules import SessionRules
from sessiond.core.sessions.manager import require
from sessiond.core.tenancy import Caller
from sessiond.domain.clock import now_ms
from sessiond.domain.errors import InvalidArgument
from sessiond.domain.events import Event
from sessiond.domain.ids import new_etag
from sessiond.domain.models import PluginEntry, Session, SessionEventReason
from sessiond.store.base import WriteTx

MAX_ID_CHARS = 128
MAX_VALUE_BYTES = 64 * 1024
_UNSET = object()


def _identifier(value: str, field: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidArgument(field, f"{field} required")
    return validation.bounded_text(text, field, MAX_ID_CHARS)


def _checked_value(value: Any) -> Any:
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument("value", "value must be JSON") from exc
    if len(encoded.encode()) > MAX_VALUE_BYTES:
        raise InvalidArgument("value", "value larger than 64 KB")
    return value


class PluginState:
    def __init__(self, committer: Committer, rules: SessionRules) -> None:
        self.committer = committer
        self.rules = rules

    async def update(
        self,
        caller: Caller,
        raw_key: str,
        plugin_id: str,
        namespace: str,
        value: Any = _UNSET,
        *,
        unset: bool,
    ) -> Session:
        """Sets `value` (JSON) or, with `unset`, removes the entry; exactly one of the two."""
        key = self.rules.stored_key(caller, raw_key, write=True)
        plugin, space = _identifier(plugin_id, "plugin_id"), _identifier(namespace, "namespace")
        if unset == (value is not _UNSET):
            raise InvalidArgument("value", "set exactly one of value or unset")
        stored = None if unset else _checked_value(value)

        def write(tx: WriteTx, events: list[Event]) -> Session:
            session = require(tx.get_session(key), key)
            others = tuple(
                e for e in session.plugin_state if (e.plugin_id, e.namespace) != (plugin, space)
            )
            entries = others if unset else (*others, PluginEntry(plugin, space, stored))
            ts = now_ms()
            updated = replace(session, plugin_state=entries, updated_at=ts, etag=new_etag())
            tx.update_session(updated)
            session_changed(tx, events, updated, SessionEventReason.PLUGIN_UPDATE, ts)
            return updated

        return await self.committer.commit(write)
