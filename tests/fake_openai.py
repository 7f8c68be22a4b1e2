"""A local OpenAI-compatible chat completions server: the only fake in the suite.

Each request takes the next scripted reply: streamed reasoning and text chunks, tool calls
(whole, or in scripted pieces), usage, an HTTP error status, or a delay longer than the
client's timeout. A reply may hold its stream open before its end until the test releases
it, so a test can act (Abort, Steer) while a tool call is open. Every request body is kept
in `requests` (model, messages, `reasoning_effort`, …). In strict mode (the default) a
request breaking the rules strict providers enforce (`openai_rules`) is answered 400 with
an OpenAI-style error instead, and takes no reply.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from openai_rules import error_body, problems


@dataclass
class StreamedCall:
    """A tool call streamed as a real provider does: id and name first, then each piece
    of its arguments in a chunk of its own."""

    call_id: str
    name: str
    pieces: list[str] = field(default_factory=list)


@dataclass
class Reply:
    chunks: list[str] = field(default_factory=list)
    tool_calls: list[tuple[str, str, str]] = field(default_factory=list)
    """(id, name, arguments JSON) streamed as tool-call deltas."""
    usage: tuple[int, int] = (11, 7)
    status: int = 200
    error_code: str = ""
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    gate: asyncio.Event | None = None
    """When set, the reply's first chunk waits for it (the test decides when it goes on)."""
    reasoning: list[str] = field(default_factory=list)
    """Thinking deltas, streamed before the text in `reasoning_field`."""
    reasoning_field: str = "reasoning_content"
    """`reasoning_content` (vLLM, llama.cpp, DeepSeek) or `reasoning` (Ollama)."""
    streamed_calls: list[StreamedCall] = field(default_factory=list)
    """Tool calls streamed piece by piece, after `tool_calls`."""
    hold: asyncio.Event | None = None
    """When set, the stream waits for it after its last piece, before `finish_reason`."""


@dataclass
class FakeOpenAI:
    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    strict: bool = True
    """Reject requests a strict provider would reject (see `openai_rules`)."""
    rejected: list[list[str]] = field(default_factory=list)
    """What was wrong with each request answered 400 in strict mode."""
    _runner: web.AppRunner | None = None
    _held: list[asyncio.Event] = field(default_factory=list)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/v1"

    async def stop(self) -> None:
        for hold in self._held:
            hold.set()  # a held stream whose client left ends now
        if self._runner is not None:
            await self._runner.cleanup()

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        found = problems(body) if self.strict else []
        if found:
            self.rejected.append(found)
            return web.json_response(error_body(found), status=400)
        reply = self.replies.pop(0) if self.replies else Reply(chunks=["ok"])
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)  # simulates a slow provider
        if reply.status != 200:
            error = {"error": {"message": "scripted", "type": "x", "code": reply.error_code}}
            return web.json_response(error, status=reply.status)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        if reply.gate is not None:
            await reply.gate.wait()
        if reply.hold is not None:
            self._held.append(reply.hold)
        try:
            async for chunk in _chunks(reply, body.get("model", "")):
                if reply.chunk_delay_s:
                    await asyncio.sleep(reply.chunk_delay_s)
                await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except ConnectionResetError:
            pass  # the client stopped reading (an aborted run)
        return response


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


async def _chunks(reply: Reply, model: str) -> AsyncIterator[dict[str, Any]]:
    yield _chunk(model, {"role": "assistant", "content": ""})
    for thought in reply.reasoning:
        yield _chunk(model, {reply.reasoning_field: thought})
    for text in reply.chunks:
        yield _chunk(model, {"content": text})
    for index, (call_id, name, arguments) in enumerate(reply.tool_calls):
        head = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        yield _chunk(model, {"tool_calls": [head]})
        half = len(arguments) // 2
        for part in (arguments[:half], arguments[half:]):
            yield _chunk(model, {"tool_calls": [{"index": index, "function": {"arguments": part}}]})
    first = len(reply.tool_calls)
    for index, call in enumerate(reply.streamed_calls, start=first):
        for chunk in _streamed_call(model, index, call):
            yield chunk
    if reply.hold is not None:
        await reply.hold.wait()
    calls = reply.tool_calls or reply.streamed_calls
    yield _chunk(model, {}, "tool_calls" if calls else "stop")
    prompt, completion = reply.usage
    yield {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def _streamed_call(model: str, index: int, call: StreamedCall) -> list[dict[str, Any]]:
    head = {
        "index": index,
        "id": call.call_id,
        "type": "function",
        "function": {"name": call.name, "arguments": ""},
    }
    pieces = [{"tool_calls": [{"index": index, "function": {"arguments": p}}]} for p in call.pieces]
    return [_chunk(model, delta) for delta in ({"tool_calls": [head]}, *pieces)]
