"""Reply shaping for live deltas (DESIGN "Stream rules", reference/002).

Text is coalesced and released at most once per interval; pending text is flushed before
a tool START and before the final event. While the reply, trimmed, is still a prefix of the
silent token (a lone "N" included, and leading whitespace) nothing is released: the held
text goes out whole, from offset 0, once the reply diverges. A reply that ends as the token
or a prefix of it is silent and never released.
Offsets count Unicode code points (Python str indices).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeltaOut:
    text: str
    offset: int


class DeltaShaper:
    def __init__(
        self,
        interval_s: float,
        silent_token: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval_s = interval_s
        self.silent_token = silent_token
        self.clock = clock
        self.text = ""
        self.emitted = 0
        self._last_release = float("-inf")

    @property
    def visible(self) -> str:
        """The text released so far."""
        return self.text[: self.emitted]

    def held(self) -> bool:
        """True while the reply could still become the silent token. Once the trimmed text
        stops being a prefix it never is one again (text only grows), so nothing released
        can turn out to have been part of a silent reply."""
        return bool(self.silent_token) and self.silent_token.startswith(self.text.strip())

    def is_silent(self) -> bool:
        """The reply, trimmed, is the silent token or a prefix of it (an empty or
        whitespace-only reply is not silent: there is nothing to keep quiet)."""
        stripped = self.text.strip()
        return bool(self.silent_token and stripped) and self.silent_token.startswith(stripped)

    def add(self, text: str) -> DeltaOut | None:
        """Appends text; returns a delta when the interval allows releasing now."""
        self.text += text
        if self.clock() - self._last_release >= self.interval_s:
            return self._release()
        return None

    def released(self, text: str) -> None:
        """Appends text delivered another way (a tool START's arguments), as released now."""
        self.text += text
        self.emitted = len(self.text)
        self._last_release = self.clock()

    def seconds_until_due(self) -> float | None:
        """Time until pending text may be released; None when nothing is pending."""
        if self.emitted >= len(self.text) or self.held():
            return None
        return max(0.0, self._last_release + self.interval_s - self.clock())

    def flush(self) -> DeltaOut | None:
        """Releases pending text now (before a tool START, on a stall); respects holding."""
        return self._release()

    def finish(self) -> DeltaOut | None:
        """The last delta before the final event; a held prefix is released, silence is not."""
        if self.is_silent() or self.emitted >= len(self.text):
            return None
        return self._take()

    def _release(self) -> DeltaOut | None:
        if self.held() or self.emitted >= len(self.text):
            return None
        return self._take()

    def _take(self) -> DeltaOut:
        delta = DeltaOut(self.text[self.emitted :], self.emitted)
        self.emitted = len(self.text)
        self._last_release = self.clock()
        return delta
