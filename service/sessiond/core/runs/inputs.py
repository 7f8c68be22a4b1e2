"""What a run's agent request is built from, read in one transaction: the session's
settings as the run finds them and the newest transcript entries its agent's budget takes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sessiond.core.runs.agents import AgentDirectory
from sessiond.core.runs.context import TranscriptContext, Window
from sessiond.domain.models import Message, Run, Session
from sessiond.store.base import ReadTx

IN_WRITE_READ = 32
"""Transcript rows a write that starts a run may read for it (`in_write`)."""


@dataclass(frozen=True, slots=True)
class RunInputs:
    """What a run's agent request is built from, read in one transaction."""

    session_id: str
    agent_id: str
    model: str
    thinking: str
    reasoning: str
    """The session's `reasoning_level`: whether thinking is streamed and kept."""
    window: Window
    """The newest entries of the transcript, enough for the agent's budget."""
    question: Message | None = None
    """The run's question when it is older than `window` (else it is in it)."""
    session: Session | None = None
    """The session as the run found it (its budgets and usage)."""


def read_inputs(
    tx: ReadTx,
    run: Run,
    context: TranscriptContext,
    agents: AgentDirectory,
    *,
    in_write: bool = False,
) -> RunInputs | None:
    """`run`'s inputs. `in_write` (the write starting the run): None when the transcript
    would need more than IN_WRITE_READ rows read, and the window is not remembered."""
    session = tx.get_session(run.session_key)
    budget = agents.transcript_budget(session.agent_id if session else "")
    if in_write:
        window = context.newest_if_cached(tx, run.session_id, budget, IN_WRITE_READ)
        if window is None:
            return None
    else:
        window = context.newest(tx, run.session_id, budget)
    question = None
    if window.earlier >= run.message_seq:
        # Replies of earlier runs filled the window while this run was queued.
        found = tx.list_messages(
            run.session_id, limit=1, after_seq=run.message_seq - 1, include_silent=True
        )
        question = found[0] if found and found[0].seq == run.message_seq else None
    return RunInputs(
        session_id=run.session_id,
        agent_id=session.agent_id if session else "",
        model=session.model if session else "",
        thinking=run.thinking or (session.thinking_level if session else ""),
        reasoning=session.reasoning_level if session else "",
        window=window,
        question=question,
        session=session,
    )
