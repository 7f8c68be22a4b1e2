"""No NUL byte in any string of a request.

Text, keys and labels are checked where they are read, but ids (`run_id`, `session_id`,
`checkpoint_id`, `idempotency_key`, …) are passed to the store as they come, and
PostgreSQL refuses a NUL in text: the call would fail as INTERNAL. One walk over the
request's set fields, at the door, answers INVALID_ARGUMENT naming the field instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from sessiond.domain.errors import InvalidArgument

_STRING = FieldDescriptor.TYPE_STRING
_MESSAGE = FieldDescriptor.TYPE_MESSAGE
WELL_KNOWN = "google.protobuf."


def reject_nul(message: Message, prefix: str = "") -> None:
    """Raises INVALID_ARGUMENT for the first string field holding a NUL byte."""
    for field, value in message.ListFields():
        name = f"{prefix}{field.name}"
        if field.type == _STRING:
            _check(name, value if field.is_repeated else (value,))
        elif field.type == _MESSAGE:
            _check_message_field(field, name, value)


def _check_message_field(field: FieldDescriptor, name: str, value: Any) -> None:
    entry = field.message_type
    if entry is not None and entry.full_name.startswith(WELL_KNOWN):
        return  # JSON values keep their text as JSON does; the others check themselves
    if entry is not None and entry.GetOptions().map_entry:
        _check(name, value.keys())
        if entry.fields_by_name["value"].type == _STRING:
            _check(name, value.values())
        elif entry.fields_by_name["value"].type == _MESSAGE:
            for key, item in value.items():
                reject_nul(item, f"{name}[{key}].")
        return
    if field.is_repeated:
        for index, item in enumerate(value):
            reject_nul(item, f"{name}[{index}].")
    else:
        reject_nul(value, f"{name}.")


def _check(name: str, texts: Iterable[object]) -> None:
    for text in texts:
        if isinstance(text, str) and "\x00" in text:
            raise InvalidArgument(name, f"{name} contains a NUL byte")
