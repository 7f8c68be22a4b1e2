"""What a run sends its agent: its transcript in conversation order.

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
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sessiond.domain.models import Message, Role, RunStatus
from sessiond.store.base import ReadTx


def _is_question(message: Message) -> bool:
    return message.role is Role.USER and bool(message.run_id)


def _anchor(item: tuple[int, int, Message]) -> tuple[int, int]:
    return item[0], item[1]


class Conversation:
    """The entries of a run's window (ascending seq), for the run `run_id`."""

    def __init__(self, entries: Sequence[Message], run_id: str) -> None:
        self.entries = entries
        self.run_id = run_id
        self.first: dict[str, int] = {}
        """Run id -> index of the first entry (not its question) the run left."""
        for index, message in enumerate(entries):
            other = message.run_id
            if other and message.role is not Role.USER and other not in self.first:
                self.first[other] = index

    def unanswered(self) -> frozenset[str]:
        """Other runs whose question is here and that left no entry: queued, or ended
        without output. Only these need their state read (`queued_among`)."""
        return frozenset(
            m.run_id
            for m in self.entries
            if _is_question(m) and m.run_id != self.run_id and m.run_id not in self.first
        )

    def question(self) -> Message | None:
        """The run's own question, when it is among the entries."""
        return next(
            (m for m in reversed(self.entries) if _is_question(m) and m.run_id == self.run_id),
            None,
        )

    def ordered(self, question: Message | None, waiting: Collection[str]) -> list[Message]:
        """The entries in conversation order, ending with `question` (rules 1-3 of the
        module docstring); `waiting`: runs queued behind this one."""
        keyed: list[tuple[int, int, Message]] = []
        """(anchor, 0 for a question or 1, entry): sorted, questions before their anchor."""
        held: list[Message] = []
        for index, message in enumerate(self.entries):
            if not _is_question(message):
                keyed.append((index, 1, message))
                continue
            if message.run_id == self.run_id or message.run_id in waiting:
                continue
            anchor = self.first.get(message.run_id)
            if anchor is None:
                held.append(message)
                continue
            anchor = max(anchor, index)
            keyed.extend((anchor, 0, q) for q in held)
            keyed.append((anchor, 0, message))
            held.clear()
        keyed.extend((len(self.entries), 0, q) for q in held)
        # Stable, and nearly sorted already (questions rarely move): linear in practice.
        keyed.sort(key=_anchor)
        ordered = [item[2] for item in keyed]
        return [*ordered, question] if question is not None else ordered


def queued_among(tx: ReadTx, run_ids: Collection[str]) -> frozenset[str]:
    """Those of `run_ids` still queued."""
    runs = (tx.get_run(run_id) for run_id in run_ids)
    return frozenset(r.run_id for r in runs if r is not None and r.status is RunStatus.QUEUED)
