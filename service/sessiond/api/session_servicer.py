"""SessionService: converts messages and delegates to core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sessiond.api import convert
from sessiond.api.callers import current_caller
from sessiond.api.handlers import Ctx, LiveHeaders, server_stream, unary
from sessiond.api.maintenance import Maintenance, MaintenanceRpcs
from sessiond.api.usage import UsageRpcs
from sessiond.core import validation
from sessiond.core.runs.admission import SendInput
from sessiond.core.runs.service import RunService
from sessiond.core.sessions.manager import UPDATABLE_FIELDS, NewSession, SessionManager
from sessiond.core.sessions.queries import PreviewStatus, SessionQueries
from sessiond.core.streams.sessions import SessionFeed
from sessiond.core.tenancy import Caller
from sessiond.core.usage import UsageQueries
from sessiond.domain.errors import InvalidArgument
from sessiond.domain.models import Message, Session
from sessiond.store.base import SessionQuery
from sessiond.v1 import resources_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as pb

_PREVIEW_STATUS = {s: getattr(pb, f"PREVIEW_STATUS_{s.name}") for s in PreviewStatus}
_RESET_REASON = {pb.RESET_REASON_NEW: "new"}
CONVERTED_SESSIONS = 1024


def _update_values(request: pb.UpdateSessionRequest) -> dict[str, Any]:
    update = request.update
    paths = list(request.update_mask.paths)
    if not paths:
        default = pb.SessionUpdate()
        paths = [f for f in sorted(UPDATABLE_FIELDS) if getattr(update, f) != getattr(default, f)]
        if not paths:
            raise InvalidArgument("update_mask", "nothing to update")
    values: dict[str, Any] = {}
    for path in paths:
        if path not in UPDATABLE_FIELDS:
            raise InvalidArgument("update_mask", f"unknown field {path!r} in update_mask")
        values[path] = _field_value(update, path)
    return values


def _field_value(update: pb.SessionUpdate, path: str) -> Any:
    if path == "metadata":
        return dict(update.metadata)
    if path == "send_policy":
        return convert.SEND_POLICY_FROM_PB.get(update.send_policy, "allow")
    if path == "queue_mode":
        return convert.QUEUE_MODE_FROM_PB.get(update.queue_mode, "enqueue")
    return getattr(update, path)


class SessionServicer(MaintenanceRpcs, UsageRpcs, session_service_pb2_grpc.SessionServiceServicer):
    def __init__(
        self,
        manager: SessionManager,
        queries: SessionQueries,
        runs: RunService,
        feed: SessionFeed,
        maintenance: Maintenance,
        usage: UsageQueries,
    ) -> None:
        MaintenanceRpcs.__init__(self, maintenance)
        UsageRpcs.__init__(self, usage)
        self.manager = manager
        self.queries = queries
        self.runs = runs
        self.feed = feed
        self._converted: dict[tuple[int, str, bool], tuple[Session, resources_pb2.Session]] = {}

    @unary
    async def CreateSession(
        self, request: pb.CreateSessionRequest, context: Ctx
    ) -> pb.CreateSessionResponse:
        spec = NewSession(
            key=request.key,
            agent_id=request.agent_id,
            label=request.label,
            model=request.model,
            display_name=request.display_name,
            parent_session_key=request.parent_session_key,
            metadata=dict(request.metadata),
        )
        if request.initial_message:
            validation.message_text(request.initial_message, "initial_message")
        caller = current_caller()
        view = caller.public_key
        session, created = await self.manager.create(caller, spec)
        if not (created and request.initial_message):
            return pb.CreateSessionResponse(
                session=convert.session_pb(session, view), created=created
            )
        public = view(session.key)
        sent = await self.runs.send(caller, SendInput(public, request.initial_message))
        session = await self.manager.get(caller, public)
        return pb.CreateSessionResponse(
            session=convert.session_pb(session, view),
            created=True,
            run_id=sent.run.run_id,
            message_seq=sent.run.message_seq,
        )

    @unary
    async def GetSession(
        self, request: pb.GetSessionRequest, context: Ctx
    ) -> pb.GetSessionResponse:
        caller = current_caller()
        session = await self.manager.get(caller, request.key)
        return pb.GetSessionResponse(session=self._session_pb(session, caller))

    def _session_pb(self, session: Session, caller: Caller) -> resources_pb2.Session:
        """`convert.session_pb`, once per session record and view: a session unchanged
        since it was read is the same (immutable) record, so polling it converts it once."""
        cached = (id(session), caller.namespace, caller.all_tenants)
        hit = self._converted.get(cached)
        if hit is not None and hit[0] is session:
            return hit[1]
        message = convert.session_pb(session, caller.public_key)
        if len(self._converted) >= CONVERTED_SESSIONS:
            self._converted.clear()
        self._converted[cached] = (session, message)
        return message

    @unary
    async def ListSessions(
        self, request: pb.ListSessionsRequest, context: Ctx
    ) -> pb.ListSessionsResponse:
        updated_after = (
            convert.ms_from_timestamp(request.updated_after, "updated_after")
            if request.HasField("updated_after")
            else 0
        )
        query = SessionQuery(
            agent_id=request.agent_id,
            label_contains=request.label_contains,
            parent_session_key=request.parent_session_key,
            active_only=request.active_only,
            updated_after=updated_after,
        )
        caller = current_caller()
        rows, token = await self.queries.list_sessions(
            caller, query, request.page_size, request.page_token
        )
        return pb.ListSessionsResponse(
            sessions=[convert.session_pb(s, caller.public_key) for s in rows],
            next_page_token=token,
            tenant="" if caller.all_tenants else caller.tenant,
        )

    @unary
    async def ResolveSession(
        self, request: pb.ResolveSessionRequest, context: Ctx
    ) -> pb.ResolveSessionResponse:
        caller = current_caller()
        key, session = await self.queries.resolve(
            caller, request.key, request.session_id, request.label, request.agent_id
        )
        view = caller.public_key
        return pb.ResolveSessionResponse(
            key=view(key), session=convert.session_pb(session, view) if session else None
        )

    @unary
    async def UpdateSession(
        self, request: pb.UpdateSessionRequest, context: Ctx
    ) -> pb.UpdateSessionResponse:
        values = _update_values(request)
        caller = current_caller()
        session = await self.manager.update(caller, request.key, values, request.etag)
        return pb.UpdateSessionResponse(session=convert.session_pb(session, caller.public_key))

    @unary
    async def ResetSession(
        self, request: pb.ResetSessionRequest, context: Ctx
    ) -> pb.ResetSessionResponse:
        reason = _RESET_REASON.get(request.reason, "reset")
        caller = current_caller()
        session, previous = await self.manager.reset(caller, request.key, reason)
        return pb.ResetSessionResponse(
            session=convert.session_pb(session, caller.public_key), previous_session_id=previous
        )

    @unary
    async def DeleteSession(
        self, request: pb.DeleteSessionRequest, context: Ctx
    ) -> pb.DeleteSessionResponse:
        archive = request.delete_transcript if request.HasField("delete_transcript") else True
        caller = current_caller()
        key, deleted, session_id = await self.manager.delete(
            caller, request.key, archive=archive, allow_missing=request.allow_missing
        )
        return pb.DeleteSessionResponse(
            key=caller.public_key(key), deleted=deleted, archived_session_id=session_id
        )

    @unary
    async def ListMessages(
        self, request: pb.ListMessagesRequest, context: Ctx
    ) -> pb.ListMessagesResponse:
        page = await self.queries.messages(
            current_caller(),
            request.key,
            request.session_id,
            size=request.page_size,
            token=request.page_token,
            before_seq=request.before_seq,
            after_seq=request.after_seq,
            include_silent=request.include_silent,
        )
        return pb.ListMessagesResponse(
            messages=[convert.message_pb(m) for m in page.messages],
            next_page_token=page.next_page_token,
            session_id=page.transcript.session_id,
            archived=page.transcript.archived,
        )

    @unary
    async def GetAttachment(
        self, request: pb.GetAttachmentRequest, context: Ctx
    ) -> pb.GetAttachmentResponse:
        attachment, transcript = await self.queries.attachment(
            current_caller(), request.key, request.session_id, request.seq, request.index
        )
        return pb.GetAttachmentResponse(
            attachment=convert.attachment_pb(attachment, request.index, with_data=True),
            session_id=transcript.session_id,
        )

    @unary
    async def PreviewSessions(
        self, request: pb.PreviewSessionsRequest, context: Ctx
    ) -> pb.PreviewSessionsResponse:
        caller = current_caller()
        previews = await self.queries.preview(
            caller, list(request.keys), request.limit, request.max_chars
        )
        return pb.PreviewSessionsResponse(
            previews=[
                pb.SessionPreview(
                    key=caller.public_key(p.key),
                    status=_PREVIEW_STATUS[p.status],
                    items=[_preview_item(m) for m in p.items],
                )
                for p in previews
            ]
        )

    @unary
    async def ListArchives(
        self, request: pb.ListArchivesRequest, context: Ctx
    ) -> pb.ListArchivesResponse:
        caller = current_caller()
        rows, token = await self.queries.archives(
            caller, request.key, request.page_size, request.page_token
        )
        return pb.ListArchivesResponse(
            archives=[convert.archive_pb(a, caller.public_key) for a in rows],
            next_page_token=token,
        )

    @server_stream
    async def WatchSessions(
        self, request: pb.WatchSessionsRequest, context: Ctx
    ) -> AsyncIterator[pb.WatchSessionsResponse]:
        caller = current_caller()
        headers = LiveHeaders(context)
        events = self.feed.watch(
            caller,
            after_cursor=request.after_cursor,
            start_at_end=request.start_at_end,
            agent_id=request.agent_id,
            keys=list(request.keys),
            on_live=headers.live,
        )
        async for event in events:
            headers.wrote()
            yield pb.WatchSessionsResponse(event=convert.session_event_pb(event, caller.public_key))


def _preview_item(message: Message) -> pb.PreviewItem:
    return pb.PreviewItem(role=convert.role_pb(message.role), text=message.text, seq=message.seq)
