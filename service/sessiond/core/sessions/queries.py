"""Read paths: listing, resolving, transcripts, previews, archives."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from sessiond.core.paging import decode_token, encode_token, page_size
from sessiond.core.rules import SessionRules
from sessiond.core.tenancy import Caller
from sessiond.domain.errors import (
    AttachmentNotFound,
    InvalidArgument,
    LabelAmbiguous,
    SessionNotFound,
    TranscriptNotFound,
)
from sessiond.domain.models import Archive, Attachment, Message, Session, Transcript
from sessiond.store.base import ReadTx, SessionQuery, Store

MAX_PREVIEW_KEYS = 64
MAX_PREVIEW_LIMIT = 50
DEFAULT_PREVIEW_LIMIT = 12
DEFAULT_PREVIEW_CHARS = 240
MIN_PREVIEW_CHARS = 20


@dataclass(frozen=True, slots=True)
class MessagePage:
    messages: list[Message]
    next_page_token: str
    transcript: Transcript


class PreviewStatus(enum.StrEnum):
    OK = "ok"
    EMPTY = "empty"
    MISSING = "missing"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Preview:
    key: str
    status: PreviewStatus
    items: list[Message]


class SessionQueries:
    def __init__(self, store: Store, rules: SessionRules) -> None:
        self.store = store
        self.rules = rules

    async def list_sessions(
        self, caller: Caller, query: SessionQuery, size: int, token: str
    ) -> tuple[list[Session], str]:
        """A page of the caller's sessions; `query.parent_session_key` as the client wrote
        it."""
        limit = page_size(size, default=50, maximum=500)
        parent = query.parent_session_key
        query = replace(
            query,
            agent_id=self.rules.agent(query.agent_id)[0] if query.agent_id.strip() else "",
            parent_session_key=(
                self.rules.stored_key(caller, parent, "parent_session_key")
                if parent.strip()
                else ""
            ),
            namespace=caller.scope,
        )
        after = None
        if token:
            state = decode_token(token, "sessions")
            after = (int(state["u"]), str(state["key"]))
        rows = await self.store.read(lambda tx: tx.list_sessions(query, limit + 1, after))
        page = rows[:limit]
        more = len(rows) > limit
        next_token = (
            encode_token("sessions", u=page[-1].updated_at, key=page[-1].key) if more else ""
        )
        return page, next_token

    async def resolve(
        self, caller: Caller, raw_key: str, session_id: str, label: str, agent_id: str
    ) -> tuple[str, Session | None]:
        given = [
            name
            for name, v in (("key", raw_key), ("session_id", session_id), ("label", label))
            if v.strip()
        ]
        if len(given) != 1:
            raise InvalidArgument("key", "set exactly one of key, session_id or label")
        if raw_key.strip():
            key = self.rules.stored_key(caller, raw_key)
            session = await self.store.read(lambda tx: tx.get_session(key))
            return key, _found(session, key)
        if session_id.strip():
            return await self._resolve_session_id(caller, session_id.strip())
        agent = self.rules.agent(agent_id)[0] if agent_id.strip() else ""
        wanted, scope = label.strip(), caller.scope
        matches = await self.store.read(lambda tx: tx.find_sessions_by_label(wanted, agent, scope))
        if not matches:
            raise SessionNotFound(wanted, what="session with label")
        if len(matches) > 1:
            raise LabelAmbiguous(wanted, [s.key for s in matches])
        return matches[0].key, matches[0]

    async def _resolve_session_id(
        self, caller: Caller, session_id: str
    ) -> tuple[str, Session | None]:
        def read(tx: ReadTx) -> tuple[Transcript | None, Session | None]:
            transcript = tx.get_transcript(session_id)
            if transcript is None or not caller.sees(transcript.session_key):
                return None, None
            return transcript, tx.get_session(transcript.session_key)

        transcript, session = await self.store.read(read)
        if transcript is None:
            raise SessionNotFound(session_id, what="session with id")
        return transcript.session_key, session

    async def messages(
        self,
        caller: Caller,
        raw_key: str,
        session_id: str,
        *,
        size: int,
        token: str,
        before_seq: int,
        after_seq: int,
        include_silent: bool,
    ) -> MessagePage:
        limit = page_size(size, default=200, maximum=1000)
        if before_seq < 0 or after_seq < 0:
            raise InvalidArgument(
                "before_seq" if before_seq < 0 else "after_seq", "must not be negative"
            )
        if token:
            state = decode_token(token, "messages")
            before_seq, after_seq = int(state["b"]), int(state["a"])
            session_id, raw_key = str(state["sid"]), ""
        transcript = await self._transcript(caller, raw_key, session_id)
        forward = bool(after_seq) and not before_seq

        def read(tx: ReadTx) -> list[Message]:
            return tx.list_messages(
                transcript.session_id,
                limit=limit + 1,
                before_seq=before_seq,
                after_seq=after_seq,
                include_silent=include_silent,
                newest_first=not forward,
            )

        rows = await self.store.read(read)
        more, rows = len(rows) > limit, rows[:limit]
        rows.sort(key=lambda m: m.seq)
        next_token = ""
        if more and rows:
            bounds = {"a": rows[-1].seq, "b": 0} if forward else {"a": after_seq, "b": rows[0].seq}
            next_token = encode_token("messages", sid=transcript.session_id, **bounds)
        return MessagePage(rows, next_token, transcript)

    async def attachment(
        self, caller: Caller, raw_key: str, session_id: str, seq: int, index: int
    ) -> tuple[Attachment, Transcript]:
        """Attachment `index` of entry `seq` with its content, from any transcript (the
        current one of a key, or any by id: archived, or a checkpoint's)."""
        if seq < 1:
            raise InvalidArgument("seq", "seq must be at least 1")
        if index < 0:
            raise InvalidArgument("index", "index must not be negative")
        transcript = await self._transcript(caller, raw_key, session_id)

        def read(tx: ReadTx) -> Message | None:
            # Seqs have no gaps: the one entry after seq - 1 is seq, if it exists.
            rows = tx.list_messages(
                transcript.session_id, limit=1, after_seq=seq - 1, include_silent=True
            )
            return rows[0] if rows and rows[0].seq == seq else None

        message = await self.store.read(read)
        if message is None:
            raise AttachmentNotFound(transcript.session_id, seq, index, what=f"message {seq}")
        if index >= len(message.attachments):
            raise AttachmentNotFound(
                transcript.session_id, seq, index, what=f"attachment {index} of message {seq}"
            )
        return message.attachments[index], transcript

    async def _transcript(self, caller: Caller, raw_key: str, session_id: str) -> Transcript:
        if session_id.strip():
            sid = session_id.strip()
            found = await self.store.read(lambda tx: tx.get_transcript(sid))
            if found is None or not caller.sees(found.session_key):
                raise TranscriptNotFound(sid)
            return found
        if not raw_key.strip():
            raise InvalidArgument("key", "key required (or session_id)")
        key = self.rules.stored_key(caller, raw_key)
        session = _found(await self.store.read(lambda tx: tx.get_session(key)), key)
        return Transcript(session.session_id, key, archived=False)

    async def preview(
        self, caller: Caller, raw_keys: list[str], limit: int, max_chars: int
    ) -> list[Preview]:
        """One preview per key, in request order (a blank or malformed key is an ERROR
        preview). Too many keys or entries is INVALID_ARGUMENT: a bound, never a cut."""
        if len(raw_keys) > MAX_PREVIEW_KEYS:
            raise InvalidArgument("keys", f"at most {MAX_PREVIEW_KEYS} keys per preview")
        if not 0 <= limit <= MAX_PREVIEW_LIMIT:
            raise InvalidArgument(
                "limit", f"limit must be 1..{MAX_PREVIEW_LIMIT} (0: {DEFAULT_PREVIEW_LIMIT})"
            )
        if max_chars < 0:
            raise InvalidArgument("max_chars", "max_chars must not be negative")
        per_key = limit or DEFAULT_PREVIEW_LIMIT
        chars = max(MIN_PREVIEW_CHARS, max_chars) if max_chars else DEFAULT_PREVIEW_CHARS
        return [await self._preview_one(caller, raw, per_key, chars) for raw in raw_keys]

    async def _preview_one(
        self, caller: Caller, raw_key: str, limit: int, max_chars: int
    ) -> Preview:
        try:
            key = self.rules.stored_key(caller, raw_key)
        except InvalidArgument:
            return Preview(raw_key, PreviewStatus.ERROR, [])

        def read(tx: ReadTx) -> list[Message] | None:
            session = tx.get_session(key)
            if session is None:
                return None
            return tx.list_messages(session.session_id, limit=limit, newest_first=True)

        rows = await self.store.read(read)
        if rows is None:
            return Preview(key, PreviewStatus.MISSING, [])
        items = [_clip(m, max_chars) for m in reversed(rows)]
        return Preview(key, PreviewStatus.OK if items else PreviewStatus.EMPTY, items)

    async def archives(
        self, caller: Caller, raw_key: str, size: int, token: str
    ) -> tuple[list[Archive], str]:
        limit = page_size(size, default=50, maximum=500)
        key = self.rules.stored_key(caller, raw_key) if raw_key.strip() else ""
        after = None
        if token:
            state = decode_token(token, "archives")
            after = (int(state["t"]), str(state["sid"]))
        scope = caller.scope
        rows = await self.store.read(lambda tx: tx.list_archives(key, limit + 1, after, scope))
        page = rows[:limit]
        more = len(rows) > limit
        next_token = (
            encode_token("archives", t=page[-1].archived_at, sid=page[-1].session_id)
            if more
            else ""
        )
        return page, next_token


def _found(session: Session | None, key: str) -> Session:
    if session is None:
        raise SessionNotFound(key)
    return session


def _clip(message: Message, max_chars: int) -> Message:
    text = message.text if len(message.text) <= max_chars else message.text[: max_chars - 1] + "…"
    return replace(message, text=text)
