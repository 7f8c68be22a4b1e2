"""Session lifecycle: create, update, reset, delete (each committed with its event)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sessiond.core import validation
from sessiond.core.committer import Committer, record, session_changed
from sessiond.core.keys import dashboard_key, main_key, stored_key_agent
from sessiond.core.limits import TenantLimits
from sessiond.core.rules import SessionRules
from sessiond.core.sessions.transcripts import new_generation
from sessiond.core.tenancy import Caller
from sessiond.domain.clock import now_ms
from sessiond.domain.errors import (
    EtagMismatch,
    InvalidArgument,
    MainSessionProtected,
    SessionNotFound,
)
from sessiond.domain.events import Event, Final
from sessiond.domain.ids import new_etag, new_id
from sessiond.domain.models import (
    INJECTED,
    Message,
    QueueMode,
    Role,
    SendPolicy,
    Session,
    SessionEventReason,
    SessionStatus,
    Usage,
)
from sessiond.domain.tenants import canonical_of, namespace_of
from sessiond.store.base import WriteTx

UPDATABLE_FIELDS = frozenset(
    {
        "label",
        "display_name",
        "model",
        "thinking_level",
        "verbose_level",
        "reasoning_level",
        "send_policy",
        "queue_mode",
        "metadata",
        "budget_cost_usd",
        "budget_tokens",
    }
)


@dataclass(frozen=True, slots=True)
class NewSession:
    """What CreateSession asks for, before validation."""

    key: str = ""
    agent_id: str = ""
    label: str = ""
    model: str = ""
    display_name: str = ""
    parent_session_key: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


def cleared(session: Session) -> Session:
    """Run state, counters and usage zeroed; settings kept (reset, branch)."""
    return replace(
        session,
        status=SessionStatus.IDLE,
        active_run_id="",
        started_at=0,
        ended_at=0,
        runtime_ms=0,
        aborted_last_run=False,
        usage=Usage(),
        message_count=0,
        compaction_count=0,
    )


def require(session: Session | None, key: str) -> Session:
    if session is None:
        raise SessionNotFound(key)
    return session


class RunControl(Protocol):
    """What session mutations need from runs (RunService provides it)."""

    def paused(self, key: str) -> AbstractAsyncContextManager[None]:
        """Stops the session's active run for a mutation and resumes the queue after it."""
        ...

    def cancel_queued(self, tx: WriteTx, events: list[Event], key: str) -> None: ...


class SessionManager:
    def __init__(
        self,
        committer: Committer,
        rules: SessionRules,
        runs: RunControl,
        limits: TenantLimits | None = None,
    ) -> None:
        self.committer = committer
        self.rules = rules
        self.runs = runs
        self.limits = limits or TenantLimits()

    async def get(self, caller: Caller, raw_key: str) -> Session:
        key = self.rules.stored_key(caller, raw_key)
        return require(await self.committer.store.session(key), key)

    def _resolve_agent_and_key(self, caller: Caller, spec: NewSession) -> tuple[str, str]:
        # Only an empty key means "make one up"; a blank one is a mistake ("key required").
        if spec.agent_id.strip():
            agent_id, _ = self.rules.agent(spec.agent_id)
            if not spec.key:
                return agent_id, caller.stored_key(dashboard_key(agent_id))
            key = caller.key(spec.key, lambda k: self.rules.key_for_agent(k, agent_id), write=True)
            return agent_id, key
        if not spec.key:
            agent_id = self.rules.default_agent
            return agent_id, caller.stored_key(dashboard_key(agent_id))
        key = self.rules.stored_key(caller, spec.key, write=True)
        owner = stored_key_agent(key)
        agent_id, _ = self.rules.agent(owner or self.rules.default_agent, "key")
        return agent_id, key

    def _build(self, caller: Caller, spec: NewSession) -> Session:
        agent_id, key = self._resolve_agent_and_key(caller, spec)
        _, agent = self.rules.agent(agent_id)
        parent = (
            self.rules.stored_key(caller, spec.parent_session_key, "parent_session_key")
            if (spec.parent_session_key.strip())
            else ""
        )
        if parent and namespace_of(parent) != namespace_of(key):
            raise SessionNotFound(parent, what="parent session")
        ts = now_ms()
        return Session(
            key=key,
            session_id=new_id(),
            agent_id=agent_id,
            created_at=ts,
            updated_at=ts,
            etag=new_etag(),
            label=validation.label(spec.label),
            display_name=validation.bounded_text(
                spec.display_name, "display_name", validation.MAX_DISPLAY_NAME_CHARS
            ),
            model=validation.model(spec.model, agent_id, agent.models),
            model_provider=agent.model_provider,
            parent_session_key=parent,
            metadata=validation.metadata(spec.metadata),
            instance_id=new_id(),
        )

    async def create(self, caller: Caller, spec: NewSession) -> tuple[Session, bool]:
        """Creates the session; an existing key is returned unchanged with created=False."""
        session = self._build(caller, spec)

        def write(tx: WriteTx, events: list[Event]) -> tuple[Session, bool]:
            existing = tx.get_session(session.key)
            if existing is not None:
                return existing, False
            if session.parent_session_key and tx.get_session(session.parent_session_key) is None:
                raise SessionNotFound(session.parent_session_key, what="parent session")
            self.limits.admit_session(tx, namespace_of(session.key))
            tx.insert_session(session)
            session_changed(tx, events, session, SessionEventReason.CREATE, session.created_at)
            return session, True

        return await self.committer.commit(write)

    def _changes(self, values: dict[str, Any], agent_id: str) -> dict[str, Any]:
        _, agent = self.rules.agent(agent_id)
        checked: dict[str, Any] = {}
        for name, value in values.items():
            if name not in UPDATABLE_FIELDS:
                raise InvalidArgument("update_mask", f"field {name!r} cannot be updated")
            checked[name] = _check_field(name, value, agent_id, agent.models)
        return checked

    async def update(
        self, caller: Caller, raw_key: str, values: dict[str, Any], etag: str = ""
    ) -> Session:
        key = self.rules.stored_key(caller, raw_key, write=True)

        def write(tx: WriteTx, events: list[Event]) -> Session:
            current = require(tx.get_session(key), key)
            if etag and etag != current.etag:
                raise EtagMismatch(key, current.etag)
            changes = self._changes(values, current.agent_id)
            updated = replace(current, **changes, updated_at=now_ms(), etag=new_etag())
            tx.update_session(updated)
            session_changed(tx, events, updated, SessionEventReason.UPDATE, updated.updated_at)
            return updated

        return await self.committer.commit(write)

    async def reset(
        self, caller: Caller, raw_key: str, reason: str = "reset"
    ) -> tuple[Session, str]:
        """New transcript, counters zeroed, settings kept; the old transcript is archived.

        The active run is stopped first and queued runs are aborted: their questions stay
        in the archived transcript, not carried into the new one.
        """
        key = self.rules.stored_key(caller, raw_key, write=True)
        await self.committer.store.read(lambda tx: require(tx.get_session(key), key))

        def write(tx: WriteTx, events: list[Event]) -> tuple[Session, str]:
            self.runs.cancel_queued(tx, events, key)
            current = require(tx.get_session(key), key)
            ts = now_ms()
            tx.archive_transcript(current.session_id, reason, ts)
            fresh = new_generation(tx, cleared(current), [])
            fresh = replace(fresh, updated_at=ts, etag=new_etag())
            tx.update_session(fresh)
            session_changed(tx, events, fresh, SessionEventReason.RESET, ts)
            return fresh, current.session_id

        async with self.runs.paused(key):
            return await self.committer.commit(write)

    async def delete(
        self, caller: Caller, raw_key: str, *, archive: bool = True, allow_missing: bool = False
    ) -> tuple[str, bool, str]:
        """Removes the session; returns (key, deleted, transcript id)."""
        key = self.rules.stored_key(caller, raw_key, write=True)
        if canonical_of(key) == main_key(self.rules.default_agent):
            raise MainSessionProtected(key)

        def write(tx: WriteTx, events: list[Event]) -> tuple[str, bool, str]:
            current = tx.get_session(key)
            if current is None:
                if allow_missing:
                    return key, False, ""
                raise SessionNotFound(key)
            ts = now_ms()
            self.runs.cancel_queued(tx, events, key)
            if archive:
                tx.archive_transcript(current.session_id, "delete", ts)
            for checkpoint in tx.list_checkpoints(key):
                tx.delete_checkpoint(checkpoint.checkpoint_id)
            tx.delete_session(key)
            session_changed(tx, events, current, SessionEventReason.DELETE, ts)
            return key, True, current.session_id

        async with self.runs.paused(key):
            return await self.committer.commit(write)


def _check_field(name: str, value: Any, agent_id: str, models: tuple[str, ...]) -> Any:
    if name == "label":
        return validation.label(value)
    if name == "display_name":
        return validation.bounded_text(value, name, validation.MAX_DISPLAY_NAME_CHARS)
    if name == "model":
        return validation.model(value, agent_id, models)
    if name == "thinking_level":
        return validation.level(value, name, validation.THINKING_LEVELS)
    if name == "verbose_level":
        return validation.level(value, name, validation.VERBOSE_LEVELS)
    if name == "reasoning_level":
        return validation.level(value, name, validation.REASONING_LEVELS)
    if name == "send_policy":
        return SendPolicy(value)
    if name == "queue_mode":
        return QueueMode(value)
    if name in ("budget_cost_usd", "budget_tokens"):
        return validation.budget(value, name)
    return validation.metadata(value)


async def inject_message(
    manager: SessionManager, caller: Caller, raw_key: str, text: str, label: str
) -> Message:
    """Appends an assistant message without a run and emits its `final` event."""
    key = manager.rules.stored_key(caller, raw_key, "session_key", write=True)
    body = validation.message_text(text)
    tag = validation.label(label)

    def write(tx: WriteTx, events: list[Event]) -> Message:
        session = require(tx.get_session(key), key)
        ts = now_ms()
        message = tx.append_message(
            Message(
                session.session_id, 0, Role.ASSISTANT, body, ts, label=tag, stop_reason=INJECTED
            )
        )
        updated = replace(session, updated_at=ts, etag=new_etag(), message_count=message.seq)
        tx.update_session(updated)
        final = Final(stop_reason=INJECTED, message=message)
        record(tx, events, updated, ts, final, reason=SessionEventReason.INJECT)
        return message

    return await manager.committer.commit(write)
