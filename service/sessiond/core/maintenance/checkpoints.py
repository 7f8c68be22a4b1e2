"""Checkpoints: list, read, branch into a new session, restore a session to one."""

from __future__ import annotations

from dataclasses import replace

from sessiond.core import validation
from sessiond.core.committer import Committer, session_changed
from sessiond.core.keys import dashboard_key
from sessiond.core.limits import TenantLimits
from sessiond.core.rules import SessionRules
from sessiond.core.sessions.manager import RunControl, cleared, require
from sessiond.core.sessions.transcripts import fill, new_generation, read_transcript
from sessiond.core.tenancy import Caller
from sessiond.domain.clock import now_ms
from sessiond.domain.errors import CheckpointNotFound, InvalidArgument, LabelInUse
from sessiond.domain.events import Event
from sessiond.domain.ids import new_etag, new_id
from sessiond.domain.models import Checkpoint, Message, Session, SessionEventReason, Usage
from sessiond.domain.tenants import namespace_of
from sessiond.store.base import ReadTx, WriteTx

MAX_LABEL_TRIES = 100


def _checkpoint(tx: ReadTx, key: str, checkpoint_id: str) -> Checkpoint:
    found = tx.get_checkpoint(checkpoint_id)
    if found is None or found.session_key != key:
        raise CheckpointNotFound(checkpoint_id)
    return found


def _free_label(tx: ReadTx, space: str, agent_id: str, wanted: str) -> str:
    """`wanted`, or `wanted (2)`, `(3)`, … when another session of the agent (in the
    namespace) has it."""
    for attempt in range(1, MAX_LABEL_TRIES + 1):
        label = wanted if attempt == 1 else f"{wanted} ({attempt})"
        if not tx.find_sessions_by_label(label, agent_id, space):
            return label
    raise LabelInUse(wanted)


class Checkpoints:
    def __init__(
        self,
        committer: Committer,
        runs: RunControl,
        rules: SessionRules,
        limits: TenantLimits | None = None,
    ) -> None:
        self.committer = committer
        self.runs = runs
        self.rules = rules
        self.limits = limits or TenantLimits()

    def _ids(
        self, caller: Caller, raw_key: str, checkpoint_id: str, *, write: bool
    ) -> tuple[str, str]:
        key = self.rules.stored_key(caller, raw_key, write=write)
        wanted = checkpoint_id.strip()
        if not wanted:
            raise InvalidArgument("checkpoint_id", "checkpoint_id required")
        return key, wanted

    async def list_for(self, caller: Caller, raw_key: str) -> list[Checkpoint]:
        key = self.rules.stored_key(caller, raw_key)

        def read(tx: ReadTx) -> list[Checkpoint]:
            require(tx.get_session(key), key)
            return tx.list_checkpoints(key)

        return await self.committer.store.read(read)

    async def get(
        self, caller: Caller, raw_key: str, checkpoint_id: str
    ) -> tuple[Checkpoint, list[Message]]:
        key, wanted = self._ids(caller, raw_key, checkpoint_id, write=False)

        def read(tx: ReadTx) -> tuple[Checkpoint, list[Message]]:
            checkpoint = _checkpoint(tx, key, wanted)
            return checkpoint, read_transcript(tx, checkpoint.session_id)

        return await self.committer.store.read(read)

    async def branch(self, caller: Caller, raw_key: str, checkpoint_id: str, label: str) -> Session:
        """A new session holding the snapshot; the source and its run are untouched."""
        key, wanted = self._ids(caller, raw_key, checkpoint_id, write=True)
        space = namespace_of(key)
        requested = validation.label(label)

        def write(tx: WriteTx, events: list[Event]) -> Session:
            source = require(tx.get_session(key), key)
            checkpoint = _checkpoint(tx, key, wanted)
            snapshot = read_transcript(tx, checkpoint.session_id)
            name = requested or (
                f"{source.label} (checkpoint)" if source.label else "Checkpoint branch"
            )
            if not requested:
                name = _free_label(
                    tx, space, source.agent_id, name[: validation.MAX_LABEL_CHARS - 8]
                )
            self.limits.admit_session(tx, space)
            ts = now_ms()
            branch = replace(
                cleared(source),
                key=space + dashboard_key(source.agent_id),
                session_id=new_id(),
                label=name,
                parent_session_key=source.key,
                created_at=ts,
                updated_at=ts,
                etag=new_etag(),
                plugin_state=(),
                instance_id=new_id(),
            )
            tx.insert_session(branch)
            branch = fill(tx, branch, snapshot)
            session_changed(tx, events, branch, SessionEventReason.CHECKPOINT_BRANCH, ts)
            return branch

        return await self.committer.commit(write)

    async def restore(
        self, caller: Caller, raw_key: str, checkpoint_id: str
    ) -> tuple[Session, str]:
        """The session goes back to the snapshot: same key, new transcript id."""
        key, wanted = self._ids(caller, raw_key, checkpoint_id, write=True)
        await self.committer.store.read(lambda tx: _checkpoint(tx, key, wanted))
        async with self.runs.paused(key):
            return await self.committer.commit(lambda tx, events: _restore(tx, events, key, wanted))


def _restore(tx: WriteTx, events: list[Event], key: str, checkpoint_id: str) -> tuple[Session, str]:
    session = require(tx.get_session(key), key)
    checkpoint = _checkpoint(tx, key, checkpoint_id)
    snapshot = read_transcript(tx, checkpoint.session_id)
    ts = now_ms()
    tx.archive_transcript(session.session_id, "restore", ts)
    restored = new_generation(tx, session, snapshot)
    restored = replace(
        restored,
        usage=Usage(total_tokens=checkpoint.tokens_before, context_tokens=checkpoint.tokens_before),
        updated_at=ts,
        etag=new_etag(),
    )
    tx.update_session(restored)
    session_changed(tx, events, restored, SessionEventReason.CHECKPOINT_RESTORE, ts)
    return restored, session.session_id
