"""Opaque page tokens: versioned, base64url JSON. A token that does not parse is a bad request."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from sessiond.domain.errors import InvalidArgument


def encode_token(kind: str, **state: Any) -> str:
    raw = json.dumps({"v": 1, "k": kind, **state}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, kind: str, field: str = "page_token") -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise InvalidArgument(field, f"{field} is not valid") from exc
    if not isinstance(data, dict) or data.get("v") != 1 or data.get("k") != kind:
        raise InvalidArgument(field, f"{field} is not valid for this request")
    return data


def page_size(value: int, *, default: int, maximum: int, field: str = "page_size") -> int:
    if value < 0:
        raise InvalidArgument(field, f"{field} must not be negative")
    return min(value or default, maximum)
