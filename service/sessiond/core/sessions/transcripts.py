"""Starting a new transcript generation from a list of entries (compaction, restore, branch)."""

from __future__ import annotations

from dataclasses import replace

from sessiond.domain.ids import new_id
from sessiond.domain.models import Message, Role, Run, RunStatus, Session
from sessiond.domain.tokens import message_tokens
from sessiond.store.base import ReadTx, WriteTx

# Whole-transcript reads are bounded; compaction exists to keep transcripts below this.
MAX_TRANSCRIPT = 100_000


def estimate_tokens(messages: list[Message]) -> int:
    """The entries' estimate (`domain.tokens`): a stable measure for before/after."""
    return sum(map(message_tokens, messages))


def read_transcript(tx: ReadTx, session_id: str) -> list[Message]:
    return tx.list_messages(session_id, limit=MAX_TRANSCRIPT, include_silent=True)


def copy_into(tx: WriteTx, session_id: str, entries: list[Message]) -> list[Message]:
    """Appends copies of `entries` to a transcript, renumbered from its next seq."""
    return [tx.append_message(replace(m, session_id=session_id, seq=0)) for m in entries]


def queued_runs(tx: ReadTx, session: Session) -> list[Run]:
    """Queued runs whose question waits in the session's current transcript, oldest first."""
    queued = tx.list_runs(session.key, RunStatus.QUEUED, limit=MAX_TRANSCRIPT, offset=0)
    return sorted(
        (r for r in queued if r.session_id == session.session_id), key=lambda r: r.message_seq
    )


def without_questions(entries: list[Message], runs: list[Run]) -> list[Message]:
    """`entries` minus the questions of `runs` (they move to the end, see new_generation)."""
    ids = {r.run_id for r in runs}
    return [m for m in entries if not (m.role is Role.USER and m.run_id in ids)]


def carry_questions(tx: WriteTx, session: Session, runs: list[Run], session_id: str) -> int:
    """Appends queued runs' questions to a new transcript and points the runs at them."""
    for run in runs:
        found = tx.list_messages(
            run.session_id, limit=1, after_seq=run.message_seq - 1, include_silent=True
        )
        if not found or found[0].seq != run.message_seq:
            continue
        moved = tx.append_message(replace(found[0], session_id=session_id, seq=0))
        tx.update_run(replace(run, session_id=session_id, message_seq=moved.seq))
    return tx.last_seq(session_id)


def new_generation(tx: WriteTx, session: Session, entries: list[Message]) -> Session:
    """The session on a fresh transcript holding `entries` (seq 1, 2, …), followed by the
    questions of its queued runs, so no waiting question is lost or answered out of place.
    An active run whose question is among `entries` follows it: its reply and tool
    entries land in the new transcript."""
    waiting = queued_runs(tx, session)
    fresh = replace(session, session_id=new_id())
    tx.update_session(fresh)  # registers the new transcript before its messages
    copied = copy_into(tx, fresh.session_id, without_questions(entries, waiting))
    _follow_active_run(tx, session, copied)
    count = carry_questions(tx, session, waiting, fresh.session_id)
    return replace(fresh, message_count=count)


def _follow_active_run(tx: WriteTx, session: Session, copied: list[Message]) -> None:
    run = tx.get_run(session.active_run_id) if session.active_run_id else None
    if run is None or run.session_id != session.session_id:
        return
    question = next((m for m in copied if m.role is Role.USER and m.run_id == run.run_id), None)
    if question is not None:
        tx.update_run(replace(run, session_id=question.session_id, message_seq=question.seq))


def fill(tx: WriteTx, session: Session, entries: list[Message]) -> Session:
    """A new session's (empty) transcript filled with `entries`."""
    copied = copy_into(tx, session.session_id, entries)
    return replace(session, message_count=len(copied))
