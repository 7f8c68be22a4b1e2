"""Backend for any OpenAI-compatible chat completions endpoint (OpenAI, Ollama, vLLM, …)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import openai
import structlog
from sessiond.agents.base import (
    AgentError,
    AgentEvent,
    AgentRequest,
    TextDelta,
    ThinkingDelta,
    ToolEnd,
    ToolStart,
    ToolUpdate,
    UsageReport,
)
from sessiond.domain.ids import new_id
from sessiond.domain.models import Message, Role, Usage

log = structlog.get_logger(__name__)

SUMMARY_PROMPT = (
    "Summarise the conversation above for your own future reference: keep facts, decisions,"
    " open questions and user preferences; be concise."
)
_ROLE_NAMES = {Role.USER: "user", Role.ASSISTANT: "assistant", Role.SYSTEM: "system"}
NO_RESULT_TEXT = "no result: the tool was not run"
"""Sent for a call with no recorded result: a strict provider needs an answer to each."""
EMPTY_RESULT_TEXT = "(empty result)"
REASONING_EFFORTS = {
    "off": "none",
    "minimal": "minimal",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "xhigh",
}
"""`reasoning_effort` sent for each thinking level; `adaptive` (and no level) sends none:
the model then thinks as its provider decides."""


@dataclass
class _PendingCall:
    tool_call_id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)
    """Pieces that came before the call could start (its name still unknown)."""
    started: bool = False
    ended: bool = False


class _ToolCalls:
    """One reply's tool-call deltas as START, UPDATE and END events.

    A call starts as soon as its name is known (id and name come in its first chunk);
    each later piece of its arguments is an UPDATE; it ends, its arguments complete, when
    the next call starts (providers stream calls one after another, by index), when the
    choice's `finish_reason` arrives, or when the stream ends. Nobody runs the tool here:
    each END is unanswered (`result=None`)."""

    def __init__(self) -> None:
        self._calls: dict[int, _PendingCall] = {}
        self._open: _PendingCall | None = None

    def add(self, part: Any) -> list[AgentEvent]:
        call = self._calls.get(part.index)
        events: list[AgentEvent] = []
        if call is None:
            events.extend(self.end())
            call = self._calls[part.index] = _PendingCall()
        elif call.ended:
            log.warning("openai.tool_piece_after_end", tool_call_id=call.tool_call_id)
            return events
        call.tool_call_id = call.tool_call_id or part.id or ""
        piece = ""
        if part.function is not None:
            call.name = call.name or part.function.name or ""
            piece = part.function.arguments or ""
        if call.started:
            if piece:
                events.append(ToolUpdate(call.tool_call_id, input=piece))
            return events
        call.arguments.append(piece)
        if call.name:
            events.append(self._start(call))
        return events

    def end(self) -> list[AgentEvent]:
        """Ends the open call; a call whose name never came starts and ends here."""
        events: list[AgentEvent] = []
        if self._open is not None:
            events.append(self._close(self._open))
        for call in self._calls.values():
            if not call.started and call.tool_call_id:
                events += [self._start(call), self._close(call)]
        return events

    def _start(self, call: _PendingCall) -> ToolStart:
        call.started = True
        call.tool_call_id = call.tool_call_id or f"call_{new_id()}"
        self._open = call
        return ToolStart(call.tool_call_id, call.name, "".join(call.arguments))

    def _close(self, call: _PendingCall) -> ToolEnd:
        call.ended = True
        self._open = None
        return ToolEnd(call.tool_call_id)


def _user_content(message: Message) -> Any:
    if not message.attachments:
        return message.text
    parts: list[dict[str, Any]] = []
    if message.text.strip():
        parts.append({"type": "text", "text": message.text})
    for attachment in message.attachments:
        data = base64.b64encode(attachment.data).decode("ascii")
        url = f"data:{attachment.mime_type};base64,{data}"
        parts.append({"type": "image_url", "image_url": {"url": url}})
    return parts


def _call(message: Message) -> dict[str, Any]:
    return {
        "id": message.tool_call_id,
        "type": "function",
        "function": {"name": message.tool_name, "arguments": _arguments(message.tool_input)},
    }


def _arguments(recorded: str) -> str:
    """A JSON object, as providers that parse the arguments (Anthropic-style proxies)
    require: arguments a model left unparseable (cut off at its token limit, say) are sent
    as `{"invalid_json": "<what it wrote>"}`, so the model still sees them."""
    if not recorded.strip():
        return "{}"
    try:
        parsed = json.loads(recorded)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return recorded
    return json.dumps({"invalid_json": recorded})


def _answer(call: Message, result: Message | None) -> dict[str, Any]:
    if result is None:
        text = NO_RESULT_TEXT
    else:
        text = result.text if result.text.strip() else EMPTY_RESULT_TEXT
    return {"role": "tool", "tool_call_id": call.tool_call_id, "content": text}


def _results(transcript: tuple[Message, ...]) -> dict[str, Message]:
    """Each call's result (the first recorded for its id)."""
    results: dict[str, Message] = {}
    for message in transcript:
        if message.role is Role.TOOL_RESULT:
            results.setdefault(message.tool_call_id, message)
    return results


class _Turns:
    """Chat messages built entry by entry. Tool calls in a row (with their results
    between them or not) become one assistant message with several `tool_calls`,
    followed at once by one tool message per call: its recorded result wherever it is in
    the transcript, or a stand-in when none was recorded. Results answering no call here
    (their call was compacted away) are dropped, as are blank texts, silent replies and
    thinking: strict providers refuse a tool call not answered right after it, a tool
    message answering nothing, and empty content."""

    def __init__(self, transcript: tuple[Message, ...]) -> None:
        self.messages: list[dict[str, Any]] = []
        self._results = _results(transcript)
        self._calls: list[Message] = []
        self._seen: set[str] = set()
        self._answered_in_turn = False

    def add(self, message: Message) -> None:
        role = message.role
        if role is Role.TOOL_CALL:
            if message.tool_call_id in self._seen:
                return  # recorded twice: it was sent once
            if self._answered_in_turn:
                self._flush()  # a call after results: the model saw them, a new turn
            self._seen.add(message.tool_call_id)
            self._calls.append(message)
        elif role is Role.TOOL_RESULT:
            # Sent with its call (`_flush`); a result of a pending call closes the turn
            # for calls that come after it.
            pending = any(c.tool_call_id == message.tool_call_id for c in self._calls)
            self._answered_in_turn = self._answered_in_turn or pending
        else:
            self._flush()
            self._add_text(message)

    def _add_text(self, message: Message) -> None:
        if message.silent:
            return
        if message.role is Role.USER:
            if message.text.strip() or message.attachments:
                self.messages.append({"role": "user", "content": _user_content(message)})
        elif message.role in _ROLE_NAMES and message.text.strip():
            self.messages.append({"role": _ROLE_NAMES[message.role], "content": message.text})

    def _flush(self) -> None:
        calls, self._calls, self._answered_in_turn = self._calls, [], False
        if not calls:
            return
        self.messages.append(
            {"role": "assistant", "content": None, "tool_calls": [_call(c) for c in calls]}
        )
        self.messages.extend(_answer(c, self._results.get(c.tool_call_id)) for c in calls)

    def finish(self) -> list[dict[str, Any]]:
        self._flush()
        return self.messages


def to_openai_messages(request: AgentRequest) -> list[dict[str, Any]]:
    """The request as chat messages, by the rules strict providers enforce (`_Turns`).
    The transcript ends with the turn being answered (`AgentRequest.transcript`)."""
    turns = _Turns(request.transcript)
    if request.system_prompt.strip():
        turns.messages.append({"role": "system", "content": request.system_prompt})
    for message in request.transcript:
        turns.add(message)
    return turns.finish()


def classify(error: Exception) -> AgentError:
    if isinstance(error, openai.RateLimitError):
        return AgentError("rate limited by the model provider", "rate_limit")
    if isinstance(error, openai.APITimeoutError):
        return AgentError("the model provider timed out", "timeout")
    if isinstance(error, openai.BadRequestError):
        code = getattr(error, "code", "") or ""
        if "context_length" in str(code) or "context length" in str(error).lower():
            return AgentError("the conversation is too long for the model", "context_length")
        return AgentError(f"the model provider refused the request: {error.message}")
    if isinstance(error, openai.APIStatusError):
        return AgentError(f"model provider error {error.status_code}")
    if isinstance(error, openai.APIConnectionError):
        return AgentError("cannot reach the model provider")
    return AgentError(f"model provider error: {type(error).__name__}")


def _usage(raw: Any) -> Usage:
    prompt = int(getattr(raw, "prompt_tokens", 0) or 0)
    completion = int(getattr(raw, "completion_tokens", 0) or 0)
    return Usage(
        input_tokens=prompt,
        output_tokens=completion,
        total_tokens=prompt + completion,
        context_tokens=prompt + completion,
    )


class OpenAIBackend:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout_s: float = 600.0,
        models: tuple[str, ...] = (),
        reasoning_effort: bool = False,
    ) -> None:
        self.model = model
        self.models = models
        """What the endpoint serves, as configured; empty: any (the endpoint decides)."""
        self.reasoning_effort = reasoning_effort
        """The agent's models take `reasoning_effort` (others reject the parameter)."""
        self.client = openai.AsyncOpenAI(
            base_url=base_url or None, api_key=api_key or "unused", timeout=timeout_s, max_retries=0
        )

    async def close(self) -> None:
        await self.client.close()

    async def summarize(self, request: AgentRequest) -> str:
        """Asks the model for a summary of the transcript through the same stream path."""
        instruction = Message(
            request.transcript[-1].session_id if request.transcript else "",
            0,
            Role.USER,
            SUMMARY_PROMPT,
            0,
        )
        summary_request = replace(request, transcript=(*request.transcript, instruction))
        parts = [e.text async for e in self.stream(summary_request) if isinstance(e, TextDelta)]
        return "".join(parts).strip()

    async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
        try:
            response = await self.client.chat.completions.create(  # type: ignore[call-overload]
                model=request.model or self.model,
                messages=to_openai_messages(request),
                stream=True,
                stream_options={"include_usage": True},
                **self._options(request),
            )
        except openai.OpenAIError as exc:
            raise classify(exc) from exc
        calls = _ToolCalls()
        try:
            async for chunk in response:
                for event in self._chunk_events(chunk, calls):
                    yield event
        except openai.OpenAIError as exc:
            raise classify(exc) from exc
        finally:
            await response.close()
        for event in calls.end():
            yield event

    def _options(self, request: AgentRequest) -> dict[str, Any]:
        """Parameters beyond the messages: the reasoning effort of the run's thinking
        level, when the agent's models take one."""
        effort = REASONING_EFFORTS.get(request.thinking_level) if self.reasoning_effort else None
        return {"reasoning_effort": effort} if effort else {}

    def _chunk_events(self, chunk: Any, calls: _ToolCalls) -> list[AgentEvent]:
        events: list[AgentEvent] = []
        if getattr(chunk, "usage", None):
            events.append(UsageReport(_usage(chunk.usage)))
        for choice in chunk.choices or ():
            delta = choice.delta
            # `reasoning_content` (vLLM, llama.cpp, DeepSeek) or `reasoning` (Ollama).
            thinking = getattr(delta, "reasoning_content", None) or getattr(
                delta, "reasoning", None
            )
            if thinking:
                events.append(ThinkingDelta(thinking))
            if delta.content:
                events.append(TextDelta(delta.content))
            for part in delta.tool_calls or ():
                events.extend(calls.add(part))
            if choice.finish_reason == "content_filter":
                raise AgentError("the model provider filtered the reply", "refusal")
            if choice.finish_reason:
                events.extend(calls.end())
        return events
