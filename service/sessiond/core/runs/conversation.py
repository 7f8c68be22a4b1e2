"""What a run sends its agent: its transcript in conversation order, cut to a budget.

**Order.** Entries are stored by `seq`, and a queued run's question is stored at `Send`
time, while an earlier run is still replying: with Q1 running and Q2 queued the
transcript is Q1, Q2, A1. A model must see Q1, A1, Q2. The run's request holds the
transcript's entries in seq order, except that

1. questions of runs still queued (behind this one) are left out: their own runs send
   them;
2. the run's own question comes last, after everything its run found in the transcript
   when it started (the replies of the runs before it);
3. any other question sits right before the first entry its run left (reply, thinking,
   tool call), so a question queued while an earlier run was replying comes after that
   reply in every later request too; a question whose run left nothing (it failed before
   any output, or was cancelled in the queue) goes with the next question after it, or
   before the run's own question when none follows.

A question is a USER entry with a `run_id`; other entries (replies, tool calls and
results, injected messages, a compaction summary) keep their seq order.

**Budget.** The request carries the newest part of that conversation whose estimate
(`domain.tokens`) fits the agent's `context_tokens`, the system prompt counted in it.
The cut is made at a question: the request never starts with a reply without its
question, nor a tool result without its call, nor splits a tool call from its result
(both belong to one run's turn, after its question). The run's own question is sent even
when it alone is over the budget. What is left out is counted for the run's
`history_omitted` event.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sessiond.core.committer import record
from sessiond.domain.clock import now_ms
from sessiond.domain.events import Event, HistoryOmitted
from sessiond.domain.models import Message, Role, Run, RunStatus
from sessiond.domain.tokens import request_tokens
from sessiond.store.base import ReadTx, WriteTx


def _is_question(message: Message) -> bool:
    return message.role is Role.USER and bool(message.run_id)


class Conversation:
    """The entries of a run's window (ascending seq), for the run `run_id`."""

    def __init__(self, entries: Sequence[Message], run_id: str) -> None:
        self.entries = entries
        self.run_id = run_id
        user = Role.USER
        answered: set[str] = set()
        asked: list[str] = []
        for message in entries:  # one pass: a run's window may hold thousands of entries
            run_id = message.run_id
            if not run_id:
                continue
            if message.role is user:
                asked.append(run_id)
            else:
                answered.add(run_id)
        self.answered = answered
        """Runs that left an entry (reply, thinking, tool call, …) among `entries`."""
        self._asked = asked
        """Runs whose question is among `entries`."""

    def unanswered(self) -> frozenset[str]:
        """Other runs whose question is here and that left no entry: queued, or ended
        without output. Only these need their state read (`queued_among`)."""
        answered, own = self.answered, self.run_id
        return frozenset(r for r in self._asked if r != own and r not in answered)

    def question(self) -> Message | None:
        """The run's own question, when it is among the entries."""
        return next(
            (m for m in reversed(self.entries) if _is_question(m) and m.run_id == self.run_id),
            None,
        )

    def ordered(self, question: Message | None, waiting: Collection[str]) -> list[Message]:
        """The entries in conversation order, ending with `question` (rules 1-3 of the
        module docstring); `waiting`: runs queued behind this one. One pass: a question
        is held until its run's first entry comes (usually the next one)."""
        ordered: list[Message] = []
        before: dict[str, list[Message]] = {}
        """Run id -> questions that go right before the run's first entry."""
        held: list[Message] = []
        """Questions whose run left nothing: they go with the next question."""
        user, own, answered, append = Role.USER, self.run_id, self.answered, ordered.append
        for message in self.entries:
            run_id = message.run_id
            if run_id and message.role is user:
                if run_id == own or run_id in waiting:
                    continue
                if run_id in answered:
                    group = before.setdefault(run_id, [])
                    group += held
                    group.append(message)
                    held = []
                else:
                    held.append(message)
                continue
            if before and run_id in before:
                ordered += before.pop(run_id)
            append(message)
        for group in before.values():  # a run's entries before its question: never seen
            ordered += group
        ordered += held
        if question is not None:
            ordered.append(question)
        return ordered


def queued_among(tx: ReadTx, run_ids: Collection[str]) -> frozenset[str]:
    """Those of `run_ids` still queued."""
    runs = (tx.get_run(run_id) for run_id in run_ids)
    return frozenset(r.run_id for r in runs if r is not None and r.status is RunStatus.QUEUED)


@dataclass(frozen=True, slots=True)
class Context:
    messages: tuple[Message, ...]
    """What the run sends, in conversation order, ending with its question."""
    omitted: int
    """Entries of the transcript left out for the budget (queued questions not counted)."""
    tokens: int
    """Estimate of `messages`."""


def fit(ordered: Sequence[Message], budget: int, earlier: int, total: int | None = None) -> Context:
    """The newest part of `ordered` (ending with the run's question) that fits `budget`
    tokens, cut at a question; `earlier`: entries of the transcript before `ordered`
    began (left out already); `total`: what `ordered` costs (`request_tokens`), when the
    caller knows it. Entries are dropped from the front until the rest fits: a window
    read for the budget holds little more than it, so few are looked at."""
    if not ordered:
        return Context((), earlier, 0)
    tokens = sum(map(request_tokens, ordered)) if total is None else total
    last = len(ordered) - 1
    start = 0
    while start < last and tokens > budget:
        tokens -= request_tokens(ordered[start])
        start += 1
    if start > 0 or earlier:
        # Cut: start at a question, never inside a turn.
        while start < last and ordered[start].role is not Role.USER:
            tokens -= request_tokens(ordered[start])
            start += 1
    return Context(tuple(ordered[start:]), earlier + start, tokens)


def record_omission(tx: WriteTx, events: list[Event], run: Run, omitted: HistoryOmitted) -> None:
    """The run's `history_omitted` event, unless the run ended meanwhile."""
    current = tx.get_run(run.run_id)
    session = tx.get_session(run.session_key)
    if current is None or current.ended or session is None:
        return
    record(tx, events, session, now_ms(), omitted, run_id=run.run_id)
