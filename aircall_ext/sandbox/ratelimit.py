"""Server-side rate limiting: N requests per fixed window of SECONDS, aligned on the clock.

Windows are ``floor(now / SECONDS)`` so the reset time a response announces is exact: a
client that waits until ``X-AircallApi-Reset`` really gets a fresh budget. That is what
lets the client's pacing be tested to the request.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

ResetUnit = Literal["s", "ms"]

LIMIT_HEADER = "X-AircallApi-Limit"
REMAINING_HEADER = "X-AircallApi-Remaining"
RESET_HEADER = "X-AircallApi-Reset"

_SPEC = re.compile(r"\s*([0-9]+)\s*/\s*([0-9]+(?:\.[0-9]+)?)\s*")


@dataclass(frozen=True)
class RateLimit:
    requests: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """``"60/60"`` → 60 requests per 60 s; raises ValueError with the reason."""
        match = _SPEC.fullmatch(text)
        if not match:
            raise ValueError(f"{text!r} is not N/SECONDS (e.g. 60/60)")
        requests, seconds = int(match.group(1)), float(match.group(2))
        if requests < 1 or seconds <= 0:
            raise ValueError(f"{text!r}: N and SECONDS must be positive")
        return cls(requests, seconds)


@dataclass(frozen=True)
class Decision:
    """The outcome of counting one request, and the headers that announce it."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # UNIX seconds: end of the current window
    retry_after: int | None  # whole seconds until the reset, only when refused

    def headers(self, unit: ResetUnit = "s") -> list[tuple[str, str]]:
        return [
            (LIMIT_HEADER, str(self.limit)),
            (REMAINING_HEADER, str(self.remaining)),
            (RESET_HEADER, format_reset(self.reset_at, unit)),
        ]


def format_reset(reset_at: float, unit: ResetUnit) -> str:
    """Integer seconds (or milliseconds) when exact; a short decimal otherwise."""
    if unit == "ms":
        return str(round(reset_at * 1000))
    if reset_at == int(reset_at):
        return str(int(reset_at))
    return f"{reset_at:.3f}".rstrip("0")


class FixedWindowLimiter:
    """Counts requests per clock-aligned window; every request counts, refused ones too."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float]) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._window: int | None = None
        self._count = 0

    def hit(self) -> Decision:
        now = self._clock()
        window = math.floor(now / self.limit.seconds)
        with self._lock:
            if window != self._window:
                self._window, self._count = window, 0
            self._count += 1
            count = self._count
        reset_at = (window + 1) * self.limit.seconds
        allowed = count <= self.limit.requests
        return Decision(
            allowed=allowed,
            limit=self.limit.requests,
            remaining=max(0, self.limit.requests - count),
            reset_at=reset_at,
            retry_after=None if allowed else max(1, math.ceil(reset_at - now)),
        )
