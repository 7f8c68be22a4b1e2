"""The rules strict chat-completions providers enforce on a request's `messages`.

OpenAI rejects a request whose tool calls are not answered right after they are made,
or whose tool messages answer nothing; Anthropic models behind OpenAI-compatible
proxies (LiteLLM, OpenRouter, Bedrock gateways) also reject empty text, a conversation
that does not end with the turn to answer, and tool arguments that are not a JSON object
(they are parsed into the call's `input`). `problems(body)` lists what such a provider
would refuse; the fake server answers a request with any of them 400, as they do.
"""

from __future__ import annotations

import json
from typing import Any

ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
LAST_ROLES = frozenset({"user", "tool"})
"""The turn being answered: a question, or the results of the model's own tool calls."""


def _blank(content: Any) -> bool:
    """Empty text, or a list of parts with none or one that is empty text."""
    if content is None:
        return True
    if isinstance(content, str):
        return not content.strip()
    if isinstance(content, list):
        if not content:
            return True
        return any(
            part.get("type") == "text" and not str(part.get("text", "")).strip() for part in content
        )
    return True


def _message_problems(index: int, message: Any) -> list[str]:
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        return [f"{where}: not an object"]
    role = message.get("role")
    if role not in ROLES:
        return [f"{where}: unknown role {role!r}"]
    content = message.get("content")
    if role == "assistant":
        calls = message.get("tool_calls") or []
        if not calls and _blank(content):
            return [f"{where}: an assistant message needs content or tool_calls"]
        if calls and content is not None and _blank(content):
            return [f"{where}: empty text content beside tool_calls"]
        return [
            f"{where}: tool_calls[{n}] arguments are not a JSON object"
            for n, call in enumerate(calls)
            if not _json_object(call.get("function", {}).get("arguments"))
        ]
    if _blank(content):
        return [f"{where}: {role} message with empty content"]
    if role == "tool" and not message.get("tool_call_id"):
        return [f"{where}: tool message without tool_call_id"]
    return []


def _json_object(text: Any) -> bool:
    try:
        return isinstance(text, str) and isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _call_ids(message: dict[str, Any]) -> list[str]:
    return [str(call.get("id") or "") for call in message.get("tool_calls") or []]


def _pairing_problems(messages: list[dict[str, Any]]) -> list[str]:
    """Each assistant message with tool_calls is followed at once by one tool message per
    call id (in any order); a tool message answers a call of that block, once."""
    problems: list[str] = []
    open_ids: set[str] = set()
    block_ids: set[str] = set()
    for index, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in open_ids:
                answered = "answers a call twice" if call_id in block_ids else "answers no call"
                problems.append(
                    f"messages[{index}]: tool message {answered} of the preceding assistant"
                    f" message with tool_calls ({call_id!r})"
                )
            open_ids.discard(call_id)
            continue
        if open_ids:
            problems.append(
                f"messages[{index}]: tool_calls {sorted(open_ids)} were not answered by tool"
                " messages right after the assistant message that made them"
            )
        open_ids, block_ids = set(), set()
        if role == "assistant":
            ids = _call_ids(message)
            if any(not call_id for call_id in ids) or len(set(ids)) != len(ids):
                problems.append(f"messages[{index}]: tool_calls need distinct, non-empty ids")
            open_ids, block_ids = set(ids), set(ids)
    if open_ids:
        problems.append(f"tool_calls {sorted(open_ids)} at the end were never answered")
    return problems


def problems(body: Any) -> list[str]:
    """What a strict provider would reject in a chat completions request body."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not messages:
        return ["messages: must be a non-empty list"]
    found = [p for index, m in enumerate(messages) for p in _message_problems(index, m)]
    if found:
        return found
    found = _pairing_problems(messages)
    last = messages[-1].get("role")
    if last not in LAST_ROLES:
        found.append(f"the conversation ends with a {last} message, not a user or tool turn")
    return found


def error_body(found: list[str]) -> dict[str, Any]:
    """An OpenAI-style 400 body."""
    return {
        "error": {
            "message": "Invalid 'messages': " + "; ".join(found),
            "type": "invalid_request_error",
            "param": "messages",
            "code": None,
        }
    }
