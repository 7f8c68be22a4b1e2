"""Starting a new transcript generation from a list of entries (compaction, restore, branch)."""

from __future__ import annotations

from dataclasses import replace

from sessiond.core.models import Message, Session, new_id
from sessiond.store.base import ReadTx, WriteTx

# Whole-transcript reads are bounded; compaction exists to keep transcripts below this.
MAX_TRANSCRIPT = 100_000


def estimate_tokens(messages: list[Message]) -> int:
    """About four characters a token: a stable measure for before/after comparisons."""
    return sum((len(m.text) + len(m.tool_input) + 3) // 4 for m in messages)


def read_transcript(tx: ReadTx, session_id: str) -> list[Message]:
    return tx.list_messages(session_id, limit=MAX_TRANSCRIPT, include_silent=True)


def copy_into(tx: WriteTx, session_id: str, entries: list[Message]) -> list[Message]:
    """Appends copies of `entries` to a transcript, renumbered from its next seq."""
    return [tx.append_message(replace(m, session_id=session_id, seq=0)) for m in entries]


def new_generation(tx: WriteTx, session: Session, entries: list[Message]) -> Session:
    """The session on a fresh transcript holding `entries` (seq 1, 2, …)."""
    fresh = replace(session, session_id=new_id())
    tx.update_session(fresh)  # registers the new transcript before its messages
    copied = copy_into(tx, fresh.session_id, entries)
    return replace(fresh, message_count=len(copied))
