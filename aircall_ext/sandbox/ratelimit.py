"""Server-side rate limiting, as the live API does it: N requests per fixed window of
SECONDS, aligned on the clock, and a block once the budget is exceeded.

The request over the budget is refused (429), and so is every request after it until the
block ends (``block_seconds`` after it, and never before its window ends). The live API
sends its ``X-AircallApi-*`` headers only on those refusals; the app can send them on every
answer instead (``rate_headers="always"``), for clients that pace from them. Windows are
``floor(now / SECONDS)`` so the reset a refusal announces is exact: that is what lets the
client's pacing be tested to the request.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from aircall_ext.api.ratelimit import LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER, Budget

ResetUnit = Literal["s", "ms"]
RateHeaders = Literal["on-429", "always"]


# The server's limit: ``RateLimit(60, 60)`` or ``RateLimit.parse("60/60")``, written and
# parsed as a client's request budget is, so one N/SECONDS means the same on both sides.
RateLimit = Budget


@dataclass(frozen=True)
class Decision:
    """The outcome of counting one request, and the headers that announce it."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # UNIX seconds: end of the current window, or of the block
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
    return f"{reset_at:.3f}".rstrip("0").rstrip(".")


class FixedWindowLimiter:
    """Counts requests per clock-aligned window; over the budget, refuses all for a while.

    Requests refused during a block are not counted: the window after a block starts fresh.
    """

    def __init__(
        self,
        limit: RateLimit,
        clock: Callable[[], float],
        *,
        block_seconds: float | None = None,
    ) -> None:
        self.limit = limit
        self.block_seconds = limit.seconds if block_seconds is None else block_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._window: int | None = None
        self._count = 0
        self._blocked_until = -math.inf

    def hit(self) -> Decision:
        now = self._clock()
        window = math.floor(now / self.limit.seconds)
        window_end = (window + 1) * self.limit.seconds
        with self._lock:
            if now < self._blocked_until:
                return self._refusal(now, self._blocked_until)
            if window != self._window:
                self._window, self._count = window, 0
            self._count += 1
            if self._count > self.limit.requests:
                self._blocked_until = max(now + self.block_seconds, window_end)
                return self._refusal(now, self._blocked_until)
            count = self._count
        return Decision(
            allowed=True,
            limit=self.limit.requests,
            remaining=self.limit.requests - count,
            reset_at=window_end,
            retry_after=None,
        )

    def _refusal(self, now: float, until: float) -> Decision:
        return Decision(
            allowed=False,
            limit=self.limit.requests,
            remaining=0,
            reset_at=until,
            retry_after=max(1, math.ceil(until - now)),
        )
