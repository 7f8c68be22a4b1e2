"""Backend for any OpenAI-compatible chat completions endpoint (OpenAI, Ollama, vLLM, …)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import openai
from sessiond.agents.base import (
    AgentError,
    AgentEvent,
    AgentRequest,
    TextDelta,
    ThinkingDelta,
    ToolStart,
    UsageReport,
)
from sessiond.domain.models import Message, Role, Usage

SUMMARY_PROMPT = (
    "Summarise the conversation above for your own future reference: keep facts, decisions,"
    " open questions and user preferences; be concise."
)
_ROLE_NAMES = {Role.USER: "user", Role.ASSISTANT: "assistant", Role.SYSTEM: "system"}
NO_RESULT_TEXT = "no result: the tool was not run"
"""Sent for a call with no recorded result: a strict provider needs an answer to each."""
EMPTY_RESULT_TEXT = "(empty result)"


@dataclass
class _PendingCall:
    tool_call_id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


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
        "function": {"name": message.tool_name, "arguments": message.tool_input or "{}"},
    }


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
    ) -> None:
        self.model = model
        self.models = models
        """What the endpoint serves, as configured; empty: any (the endpoint decides)."""
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
            )
        except openai.OpenAIError as exc:
            raise classify(exc) from exc
        calls: dict[int, _PendingCall] = {}
        try:
            async for chunk in response:
                for event in self._chunk_events(chunk, calls):
                    yield event
        except openai.OpenAIError as exc:
            raise classify(exc) from exc
        finally:
            await response.close()
        for call in calls.values():
            yield ToolStart(call.tool_call_id, call.name, "".join(call.arguments) or "{}")

    def _chunk_events(self, chunk: Any, calls: dict[int, _PendingCall]) -> list[AgentEvent]:
        events: list[AgentEvent] = []
        if getattr(chunk, "usage", None):
            events.append(UsageReport(_usage(chunk.usage)))
        for choice in chunk.choices or ():
            delta = choice.delta
            thinking = getattr(delta, "reasoning_content", None)
            if thinking:
                events.append(ThinkingDelta(thinking))
            if delta.content:
                events.append(TextDelta(delta.content))
            for part in delta.tool_calls or ():
                pending = calls.setdefault(part.index, _PendingCall())
                pending.tool_call_id = part.id or pending.tool_call_id
                if part.function is not None:
                    pending.name = part.function.name or pending.name
                    pending.arguments.append(part.function.arguments or "")
            if choice.finish_reason == "content_filter":
                raise AgentError("the model provider filtered the reply", "refusal")
        return events
