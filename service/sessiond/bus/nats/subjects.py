"""Topics -> NATS subjects.

A topic is `<kind>:<name>` (`chat:<session key>`) or a bare `<kind>` (`feed`). Session keys
hold `:` and any other character, while a NATS subject is dot-separated tokens without
whitespace, `*` or `>`. So the kind becomes a token of its own and the name is encoded
with base64url (no padding: `A-Z a-z 0-9 - _`), which never holds a dot or a wildcard:

    chat:agent:main:main  ->  <prefix>.chat.YWdlbnQ6bWFpbjptYWlu
    feed                  ->  <prefix>.feed

An empty name becomes `=` (base64url of any other name is at least two characters), and a
topic whose kind is not a plain token is encoded whole under `<prefix>._`.
"""

from __future__ import annotations

import base64
import functools
import re

DEFAULT_PREFIX = "sessiond"
_PLAIN_TOKEN = re.compile(r"[a-z0-9_-]+")
_PREFIX = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")


def check_prefix(prefix: str) -> str:
    """`prefix` when it is dot-separated plain tokens, else ValueError naming it."""
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(
            f"NATS subject prefix {prefix!r} must be dot-separated tokens of letters, digits,"
            " '-' and '_'"
        )
    return prefix


def _encode_name(name: str) -> str:
    encoded = base64.urlsafe_b64encode(name.encode()).rstrip(b"=").decode("ascii")
    return encoded or "="


@functools.lru_cache(maxsize=4096)  # every publish asks, mostly for the same few topics
def subject_of(prefix: str, topic: str) -> str:
    """The NATS subject of `topic` under `prefix` (one subject per topic, and back)."""
    kind, colon, name = topic.partition(":")
    if not _PLAIN_TOKEN.fullmatch(kind) or kind == "_":
        return f"{prefix}._.{_encode_name(topic)}"
    if not colon:
        return f"{prefix}.{kind}"
    return f"{prefix}.{kind}.{_encode_name(name)}"
