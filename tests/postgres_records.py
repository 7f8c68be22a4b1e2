"""Records and writes shared by the tests of store/postgres."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sessiond.domain.events import RunStarted
from sessiond.domain.models import Message, Role, Session
from sessiond.store.base import WriteTx
from sessiond.store.postgres import PostgresStore

KEYS = ("agent:main:a", "agent:main:b", "agent:main:c")


async def opened(url: str, **options: Any) -> PostgresStore:
    store = PostgresStore(url, readers=2, **options)
    await store.open()
    return store


def session_record(key: str, label: str = "") -> Session:
    return Session(
        key=key, session_id=f"sid-{key}", agent_id="main", created_at=1, updated_at=1,
        etag="e1", label=label,
    )  # fmt: skip


def create_sessions(tx: WriteTx) -> None:
    for key in KEYS:
        tx.insert_session(session_record(key))


def append(key: str, text: str = "x") -> Callable[[WriteTx], tuple[int, int]]:
    """Appends a message and an event to `key`; returns (cursor, global position)."""

    def write(tx: WriteTx) -> tuple[int, int]:
        message = tx.append_message(Message(f"sid-{key}", 0, Role.USER, text, 2))
        event = tx.append_event(key, 3, RunStarted(message.seq, f"sid-{key}"))
        return event.cursor, event.global_seq

    return write


async def texts(store: PostgresStore, key: str = KEYS[0]) -> list[str]:
    messages = await store.read(lambda tx: tx.list_messages(f"sid-{key}", limit=1000))
    return [m.text for m in messages]
