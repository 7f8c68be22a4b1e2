"""Field rules shared by every RPC: labels, levels, models, message text."""

from __future__ import annotations

import math
import re
import unicodedata

from sessiond.domain.errors import InvalidArgument, ModelNotServed

MAX_LABEL_CHARS = 512
MAX_MODEL_CHARS = 256
MAX_DISPLAY_NAME_CHARS = 512
MAX_METADATA_ENTRIES = 64
MAX_METADATA_CHARS = 4096

THINKING_LEVELS = frozenset({"off", "minimal", "low", "medium", "high", "xhigh", "adaptive"})
VERBOSE_LEVELS = frozenset({"off", "on", "full"})
REASONING_LEVELS = frozenset({"off", "on", "stream"})

# Control characters (Unicode category Cc: exactly U+0000-U+001F and U+007F-U+009F) other
# than tab, LF and CR, dropped from message text; one regex rather than a category lookup
# per character of every Send.
_DROPPED_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _reject_nul(field: str, value: str) -> None:
    if "\x00" in value:
        raise InvalidArgument(field, f"{field} contains a NUL byte")


def label(value: str, field: str = "label") -> str:
    """A label is 1–512 characters after trimming; empty means "no label"."""
    text = value.strip()
    _reject_nul(field, text)
    if len(text) > MAX_LABEL_CHARS:
        raise InvalidArgument(field, f"{field} must be 1–{MAX_LABEL_CHARS} characters")
    return text


def bounded_text(value: str, field: str, max_chars: int) -> str:
    text = value.strip()
    _reject_nul(field, text)
    if len(text) > max_chars:
        raise InvalidArgument(field, f"{field} must be at most {max_chars} characters")
    return text


def level(value: str, field: str, allowed: frozenset[str]) -> str:
    """Empty clears the level; anything else must be one of `allowed`."""
    text = value.strip().lower()
    if text and text not in allowed:
        choices = "|".join(sorted(allowed))
        raise InvalidArgument(field, f"{field} must be one of {choices}")
    return text


def model(value: str, agent_id: str, served: tuple[str, ...], field: str = "model") -> str:
    """A model the agent's backend serves (`served`; empty: any), or "" for its default."""
    text = bounded_text(value, field, MAX_MODEL_CHARS)
    if text and served and text not in served:
        raise ModelNotServed(text, agent_id, served, field)
    return text


def metadata(values: dict[str, str], field: str = "metadata") -> dict[str, str]:
    if len(values) > MAX_METADATA_ENTRIES:
        raise InvalidArgument(field, f"{field} has more than {MAX_METADATA_ENTRIES} entries")
    for key, value in values.items():
        _reject_nul(f"{field}.{key}", key + value)
        if not key or len(key) + len(value) > MAX_METADATA_CHARS:
            raise InvalidArgument(field, f"{field} keys must be non-empty and entries short")
    return dict(values)


def message_text(value: str, field: str = "text", *, has_attachments: bool = False) -> str:
    """NFC-normalised; NUL rejected; control characters other than tab/LF/CR dropped."""
    _reject_nul(field, value)
    text = unicodedata.normalize("NFC", value)
    text = _DROPPED_CONTROL.sub("", text)
    if not text.strip() and not has_attachments:
        raise InvalidArgument(field, f"{field} must not be empty")
    return text


def budget(value: float, field: str) -> float:
    """A budget: a finite, non-negative number (0: no limit)."""
    if not math.isfinite(value) or value < 0:
        raise InvalidArgument(field, f"{field} must be a finite number, 0 or more")
    return value
