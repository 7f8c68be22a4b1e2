"""Attachments read back: transcripts carry their metadata, GetAttachment their content.

A page of ListMessages is up to 1000 entries and an attachment up to 5 MB: inline, one read
could be gigabytes. Every message a client reads (ListMessages, GetCheckpoint, ChatEvents)
carries each attachment's mime type, file name, size and index with `omitted=true`;
GetAttachment returns one attachment's bytes, from the current transcript or any other.
"""

from __future__ import annotations

import grpc
from helpers import (
    StreamReader,
    body_of,
    create_session,
    ends_run,
    expect_error,
    field_violations,
    wait_run,
)
from maintenance_helpers import messages_of
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, resources_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

Sessions = session_service_pb2_grpc.SessionServiceStub
Chat = chat_service_pb2_grpc.ChatServiceStub
Code = grpc.StatusCode
R = resources_pb2

# Big enough that a message or event carrying it could not go unnoticed by its size.
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 1024
ICON = b"GIF89a" + b"\x01" * 40


async def send_pictures(chat: Chat, key: str, text: str = "look") -> cpb.SendResponse:
    """A user message with two images, its reply run waited for."""
    sent: cpb.SendResponse = await chat.Send(
        cpb.SendRequest(
            session_key=key,
            text=text,
            attachments=[
                R.Attachment(mime_type="image/png", data=PHOTO, file_name="photo.png"),
                R.Attachment(mime_type="image/gif", data=ICON),
            ],
        )
    )
    await wait_run(chat, sent.run_id)
    return sent


def described(message: R.Message) -> list[tuple[str, str, int, int, bool, bytes]]:
    return [
        (a.mime_type, a.file_name, a.size_bytes, a.index, a.omitted, a.data)
        for a in message.attachments
    ]


METADATA = [
    ("image/png", "photo.png", len(PHOTO), 0, True, b""),
    ("image/gif", "", len(ICON), 1, True, b""),
]


async def get_attachment(
    sessions: Sessions, *, key: str = "", session_id: str = "", seq: int, index: int
) -> spb.GetAttachmentResponse:
    response: spb.GetAttachmentResponse = await sessions.GetAttachment(
        spb.GetAttachmentRequest(key=key, session_id=session_id, seq=seq, index=index)
    )
    return response


async def test_list_messages_carries_metadata_and_get_attachment_the_bytes(
    sessions: Sessions, chat: Chat
) -> None:
    created = await create_session(sessions, key="album")
    sent = await send_pictures(chat, "album")

    user = (await messages_of(sessions, "album"))[sent.message_seq - 1]
    assert (user.role, user.text) == (R.ROLE_USER, "look")
    assert described(user) == METADATA
    assert user.ByteSize() < len(PHOTO) // 10, "no content in a listed message"

    by_key = await get_attachment(sessions, key="Album", seq=sent.message_seq, index=0)
    assert by_key.session_id == created.session_id
    photo = by_key.attachment
    assert (photo.mime_type, photo.file_name, photo.data) == ("image/png", "photo.png", PHOTO)
    assert (photo.size_bytes, photo.index, photo.omitted) == (len(PHOTO), 0, False)
    by_id = await get_attachment(
        sessions, session_id=user.session_id, seq=user.seq, index=user.attachments[1].index
    )
    assert (by_id.attachment.mime_type, by_id.attachment.data) == ("image/gif", ICON)


async def test_get_attachment_not_found_and_invalid(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="sparse")
    sent = await send_pictures(chat, "sparse")
    reply_seq = sent.message_seq + 1  # the echo reply: no attachments
    for seq, index in ((sent.message_seq, 2), (reply_seq, 0), (reply_seq + 1, 0)):
        err = await expect_error(
            get_attachment(sessions, key="sparse", seq=seq, index=index),
            Code.NOT_FOUND,
            "ATTACHMENT_NOT_FOUND",
        )
        assert f"{seq}" in (err.details() or "")
    for seq, index, field in ((0, 0, "seq"), (-1, 0, "seq"), (1, -1, "index")):
        err = await expect_error(
            get_attachment(sessions, key="sparse", seq=seq, index=index), Code.INVALID_ARGUMENT
        )
        assert field_violations(err) == [field]
    await expect_error(
        get_attachment(sessions, session_id="no-such-transcript", seq=1, index=0),
        Code.NOT_FOUND,
        "TRANSCRIPT_NOT_FOUND",
    )
    await expect_error(
        get_attachment(sessions, key="nobody-here", seq=1, index=0),
        Code.NOT_FOUND,
        "SESSION_NOT_FOUND",
    )
    err = await expect_error(get_attachment(sessions, seq=1, index=0), Code.INVALID_ARGUMENT)
    assert field_violations(err) == ["key"]


async def test_archived_transcripts_serve_their_attachments(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="old-album")
    sent = await send_pictures(chat, "old-album")
    reset = await sessions.ResetSession(spb.ResetSessionRequest(key="old-album"))
    archived = reset.previous_session_id

    listed = await sessions.ListMessages(spb.ListMessagesRequest(session_id=archived))
    assert listed.archived
    assert described(listed.messages[sent.message_seq - 1]) == METADATA
    got = await get_attachment(sessions, session_id=archived, seq=sent.message_seq, index=0)
    assert (got.session_id, got.attachment.data) == (archived, PHOTO)
    # The key now reads the new, empty transcript.
    await expect_error(
        get_attachment(sessions, key="old-album", seq=sent.message_seq, index=0),
        Code.NOT_FOUND,
        "ATTACHMENT_NOT_FOUND",
    )


async def test_get_checkpoint_carries_metadata_and_its_attachments_are_served(
    sessions: Sessions, chat: Chat
) -> None:
    await create_session(sessions, key="compacted-album")
    sent = await send_pictures(chat, "compacted-album")
    for text in ("one", "two"):
        await wait_run(
            chat,
            (await chat.Send(cpb.SendRequest(session_key="compacted-album", text=text))).run_id,
        )
    compacted = await sessions.CompactSession(
        spb.CompactSessionRequest(key="compacted-album", max_lines=2)
    )
    assert compacted.compacted
    assert all(not m.attachments for m in await messages_of(sessions, "compacted-album"))

    checkpoint = (
        await sessions.GetCheckpoint(
            spb.GetCheckpointRequest(key="compacted-album", checkpoint_id=compacted.checkpoint_id)
        )
    ).checkpoint
    user = next(m for m in checkpoint.messages if m.seq == sent.message_seq)
    assert user.session_id == checkpoint.session_id
    assert described(user) == METADATA
    assert checkpoint.ByteSize() < len(PHOTO) // 10
    got = await get_attachment(sessions, session_id=checkpoint.session_id, seq=user.seq, index=1)
    assert got.attachment.data == ICON


async def test_chat_events_carry_no_attachment_content(sessions: Sessions, chat: Chat) -> None:
    """The reply a run streams is the assistant's (no attachments today); whatever a final
    message may carry goes through the same byte-free conversion."""
    await create_session(sessions, key="watched-album")
    watch = chat.WatchChat(cpb.WatchChatRequest(session_key="watched-album"))
    async with StreamReader(watch) as reader:
        await reader.read_until(lambda r: body_of(r.event) == "session_changed")
        sent = await send_pictures(chat, "watched-album", text="a picture of a cat")
        received = await reader.read_until(lambda r: ends_run(r.event, sent.run_id), timeout=10)
    final = received[-1].event.final
    assert final.message.text == "a picture of a cat"
    assert max(r.ByteSize() for r in received) < len(PHOTO) // 10
