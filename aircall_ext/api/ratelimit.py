"""Client-side pacing from the ``X-AircallApi-*`` headers.

The API allows N requests per window per account and says, on every response, how many
remain and when the window resets. A lone client should never see a 429 yet use nearly all
of its budget, and a short command (three listing pages) should not be slowed at all. So
the first half of each window's budget is spent freely and the rest is spread evenly until
just before the reset (so the last request still counts in its own window instead of
taking a slot of the next one); an exhausted budget (another client drained it) waits for
the reset. The budget is the account's, shared with every other client: the headers say
what is really left, so a busy neighbour only makes the spread wider.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from dataclasses import dataclass

LIMIT_HEADER = "X-AircallApi-Limit"
REMAINING_HEADER = "X-AircallApi-Remaining"
RESET_HEADER = "X-AircallApi-Reset"

# Above this, a reset time is in milliseconds (1e11 s is the year 5138).
_MILLISECONDS_THRESHOLD = 1e11
# A little slack after a reset, for the server's clock and rounding.
RESET_MARGIN = 0.05
# Never trust a header into waiting longer than this at once: a rate-limit window is a
# minute, so five are plenty. A server that asks for more (``Retry-After: 864000``) is not
# obeyed: the request fails instead of sleeping for days.
MAX_WAIT = 5 * 60.0
# The spread ends this long (or one round trip, if longer) before the reset, so the last
# request of a window arrives inside it.
MIN_LEAD = 0.1


def parse_reset(value: str) -> float | None:
    """A reset time as UNIX seconds; the header may be in seconds or milliseconds."""
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if number != number or number <= 0:  # NaN or nonsense
        return None
    return number / 1000.0 if number > _MILLISECONDS_THRESHOLD else number


def parse_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as a delay in seconds: either delta-seconds or an HTTP date."""
    if value is None:
        return None
    seconds = parse_int(value)
    if seconds is not None:
        return float(max(seconds, 0))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(when.timestamp() - now, 0.0)


@dataclass
class RatePacer:
    """Decides how long to wait before the next request, from the last response's headers."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None  # UNIX seconds
    next_at: float = 0.0  # earliest UNIX time for the next request
    rtt: float = 0.0  # seconds the last request took, answer included

    def observe(self, headers: Mapping[str, str], now: float, rtt: float = 0.0) -> None:
        """Update from a response's headers (missing or garbled headers mean: no pacing)."""
        self.rtt = max(rtt, 0.0)
        self.limit = parse_int(headers.get(LIMIT_HEADER))
        self.remaining = parse_int(headers.get(REMAINING_HEADER))
        reset = headers.get(RESET_HEADER)
        self.reset_at = parse_reset(reset) if reset is not None else None
        self.next_at = now + self._gap(now)

    def _gap(self, now: float) -> float:
        if self.remaining is None or self.reset_at is None:
            return 0.0
        window_left = self.reset_at - now
        if self.remaining <= 0:
            return self.until_reset(now)
        if window_left <= 0:
            return 0.0  # the window is over: a fresh budget
        free = (self.limit or 0) // 2
        if self.remaining > free:
            return 0.0
        lead = max(MIN_LEAD, self.rtt)
        return min(max(window_left - lead, 0.0) / self.remaining, MAX_WAIT)

    def until_reset(self, now: float) -> float:
        """Time until the budget refills; one second if the reset is unknown or past."""
        if self.reset_at is None or self.reset_at <= now:
            return 1.0
        return min(self.reset_at - now + RESET_MARGIN, MAX_WAIT)

    def delay(self, now: float) -> float:
        return max(self.next_at - now, 0.0)

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0
