"""The conversation order of a run's request (core/runs/conversation.py), case by case:
entries are written by seq, questions of queued runs at Send time."""

from __future__ import annotations

import random
from typing import Any

from sessiond.core.runs.conversation import Context, Conversation, fit
from sessiond.domain.models import Message, Role
from sessiond.domain.tokens import request_tokens

_seq = 0


def _entry(role: Role, text: str, run_id: str, **fields: Any) -> Message:
    global _seq
    _seq += 1
    return Message("sid", _seq, role, text, _seq, run_id=run_id, **fields)


def q(run: str) -> Message:
    """The question of run `run` (its text is `Q<run>`)."""
    return _entry(Role.USER, f"Q{run}", run)


def a(run: str) -> Message:
    return _entry(Role.ASSISTANT, f"A{run}", run)


def call(run: str) -> Message:
    return _entry(Role.TOOL_CALL, "", run, tool_call_id=f"c{run}")


def result(run: str) -> Message:
    return _entry(Role.TOOL_RESULT, f"R{run}", run, tool_call_id=f"c{run}")


def injected(text: str) -> Message:
    return _entry(Role.ASSISTANT, text, "")


def _order(
    entries: list[Message], run: str, waiting: set[str] | frozenset[str] = frozenset()
) -> str:
    conversation = Conversation(entries, run)
    ordered = conversation.ordered(conversation.question(), waiting)
    return " ".join(m.text for m in ordered)


def test_without_a_queue_the_order_is_the_transcripts() -> None:
    entries = [q("1"), a("1"), q("2"), call("2"), result("2"), a("2"), q("3")]
    assert _order(entries, "3") == "Q1 A1 Q2  R2 A2 Q3"


def test_the_runs_question_comes_after_the_replies_before_its_run() -> None:
    entries = [q("1"), q("2"), a("1")]
    assert _order(entries, "2") == "Q1 A1 Q2"


def test_questions_still_queued_are_left_out() -> None:
    entries = [q("1"), q("2"), q("3"), a("1")]
    assert _order(entries, "2", {"3"}) == "Q1 A1 Q2"
    assert Conversation(entries, "2").unanswered() == {"3"}


def test_an_earlier_queued_question_sits_before_its_runs_reply() -> None:
    entries = [q("1"), q("2"), q("3"), a("1"), a("2"), q("4")]
    assert _order(entries, "3", {"4"}) == "Q1 A1 Q2 A2 Q3"
    entries.append(a("3"))
    assert _order([*entries, q("5")], "5") == "Q1 A1 Q2 A2 Q3 A3 Q4 Q5"


def test_a_question_sent_during_a_tool_call_comes_after_the_calls_turn() -> None:
    entries = [q("1"), call("1"), q("2"), result("1"), a("1")]
    assert _order(entries, "2") == "Q1  R1 A1 Q2"


def test_a_steered_run_goes_before_the_queue_it_jumped() -> None:
    """Q2 waits while Q3 steers: Q3's run leaves Q2 out; Q2's run then follows A3."""
    entries = [q("1"), q("2"), a("1"), q("3")]
    assert _order(entries, "3", {"2"}) == "Q1 A1 Q3"
    entries.append(a("3"))
    assert _order(entries, "2") == "Q1 A1 Q3 A3 Q2"


def test_a_question_whose_run_left_nothing_goes_with_the_next_question() -> None:
    """Q2's run failed before any output: it stays before Q3 (and A3), not before A1."""
    entries = [q("1"), q("2"), q("3"), a("1"), a("3"), q("4")]
    conversation = Conversation(entries, "4")
    assert conversation.unanswered() == {"2"}
    assert _order(entries, "4") == "Q1 A1 Q2 Q3 A3 Q4"
    assert _order(entries[:4], "3") == "Q1 A1 Q2 Q3"


def test_entries_of_no_run_keep_their_place() -> None:
    entries = [injected("hello"), q("1"), q("2"), a("1"), injected("note")]
    assert _order(entries, "2") == "hello Q1 A1 note Q2"


def test_a_question_not_among_the_entries_is_given() -> None:
    conversation = Conversation([a("1"), q("2")], "9")
    question = Message("sid", 1, Role.USER, "Q9", 1, run_id="9")
    assert [m.text for m in conversation.ordered(question, frozenset())] == ["A1", "Q2", "Q9"]


def _sized(role: Role, tokens: int, run_id: str = "r") -> Message:
    """An entry estimated at `tokens` tokens (four characters a token)."""
    return _entry(role, "x" * (4 * tokens), run_id)


def test_everything_that_fits_is_sent() -> None:
    entries = [_sized(Role.USER, 5), _sized(Role.ASSISTANT, 5), _sized(Role.USER, 5)]
    context = fit(entries, 15, 0)
    assert (context.messages, context.omitted, context.tokens) == (tuple(entries), 0, 15)


def test_the_cut_falls_on_a_question() -> None:
    q1, a1, q2, a2, q3 = (_sized(r, 10) for r in [Role.USER, Role.ASSISTANT] * 2 + [Role.USER])
    # 35 tokens would hold A1 (and a half-turn); the cut moves on to Q2.
    context = fit([q1, a1, q2, a2, q3], 35, 0)
    assert context.messages == (q2, a2, q3)
    assert (context.omitted, context.tokens) == (2, 30)


def test_a_tool_turn_is_left_out_whole() -> None:
    """The budget reaches back into the call's result: the call, its result and the reply
    go together; the request starts with the next question, never with a result."""
    q1, call, result = (
        _sized(Role.USER, 10),
        _sized(Role.TOOL_CALL, 2),
        _sized(Role.TOOL_RESULT, 14),
    )
    a1, q2 = _sized(Role.ASSISTANT, 3), _sized(Role.USER, 10)
    context = fit([q1, call, result, a1, q2], 28, 0)
    assert context.messages == (q2,)
    assert context.omitted == 4


def test_the_question_is_sent_even_over_the_budget() -> None:
    entries = [_sized(Role.USER, 5), _sized(Role.ASSISTANT, 5), _sized(Role.USER, 50)]
    context = fit(entries, 10, 0)
    assert context.messages == (entries[-1],)
    assert (context.omitted, context.tokens) == (2, 50)


def test_entries_before_the_window_count_and_its_start_is_a_question() -> None:
    """A window that starts inside a turn (its question is older) begins at the next
    question even when all of it would fit."""
    entries = [_sized(Role.ASSISTANT, 2), _sized(Role.USER, 2), _sized(Role.ASSISTANT, 2)]
    question = _sized(Role.USER, 2)
    context = fit([*entries, question], 100, 7)
    assert context.messages == (*entries[1:], question)
    assert context.omitted == 8


def test_thinking_and_silent_replies_cost_nothing_of_the_budget() -> None:
    """No request carries them (the backends leave them out), so they take no room."""
    q1 = _sized(Role.USER, 5)
    thought = _sized(Role.THINKING, 40)
    silent = _entry(Role.ASSISTANT, "x" * 160, "r", silent=True)
    a1, q2 = _sized(Role.ASSISTANT, 5), _sized(Role.USER, 5)
    context = fit([q1, thought, silent, a1, q2], 15, 0)
    assert context.messages == (q1, thought, silent, a1, q2)
    assert (context.omitted, context.tokens) == (0, 15)


def _fit_from_the_back(ordered: list[Message], budget: int, earlier: int) -> Context:
    """The cut as first written: the longest suffix that fits, walked from the back."""
    last = len(ordered) - 1
    start, tokens = last, request_tokens(ordered[last])
    while start > 0 and tokens + request_tokens(ordered[start - 1]) <= budget:
        start, tokens = start - 1, tokens + request_tokens(ordered[start - 1])
    if start > 0 or earlier:
        while start < last and ordered[start].role is not Role.USER:
            tokens -= request_tokens(ordered[start])
            start += 1
    return Context(tuple(ordered[start:]), earlier + start, tokens)


def test_the_cut_from_the_front_is_the_cut_from_the_back() -> None:
    """`fit` drops entries from the front (few, for a window read for the budget); it
    must leave what the longest fitting suffix would, with or without a known total."""
    rng = random.Random(7)
    roles = [Role.USER, Role.ASSISTANT, Role.THINKING, Role.TOOL_CALL, Role.TOOL_RESULT]
    for _ in range(500):
        entries = [
            Message(
                "s",
                seq,
                rng.choice(roles),
                "x" * rng.randrange(0, 60),
                0,
                silent=rng.random() < 0.1,
            )
            for seq in range(1, rng.randrange(2, 30))
        ]
        entries.append(Message("s", len(entries) + 1, Role.USER, "q" * rng.randrange(1, 80), 0))
        budget, earlier = rng.randrange(0, 200), rng.choice([0, 0, 3])
        expected = _fit_from_the_back(entries, budget, earlier)
        assert fit(entries, budget, earlier) == expected
        total = sum(map(request_tokens, entries))
        assert fit(entries, budget, earlier, total) == expected
