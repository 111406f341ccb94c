"""Client-side pacing: a request budget kept before each request is sent.

The live API sends no rate-limit headers until its budget is spent, and exceeding it blocks
the whole account (every integration of the company) for about a minute. So the client
cannot wait to be told: it keeps a budget of N requests per SECONDS of its own and holds a
request back until sending it cannot put more than N into any window of that length.

The server counts a request when it arrives, somewhere between the moment it was sent and
the moment its answer came back. Request k may therefore start only once request k-N has
been answered for SECONDS: then k arrives at least SECONDS after k-N, whatever the
latency. That costs one round trip per window, so a long run uses nearly all of the
budget, and the first N requests go out at once, so a short command is never slowed.

Rate-limit headers, when an answer carries them, can only tighten this: a lower
``X-AircallApi-Limit`` lowers N for the rest of the run, and ``-Remaining`` caps what is
sent before ``-Reset``. A 429 blocks every request until ``Retry-After`` (or the reset)
and lowers N to the limit it reports; the client remembers that limit for the account.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from aircall_ext.names import DEFAULT_RATE_LIMIT

LIMIT_HEADER = "X-AircallApi-Limit"
REMAINING_HEADER = "X-AircallApi-Remaining"
RESET_HEADER = "X-AircallApi-Reset"
RETRY_AFTER_HEADER = "Retry-After"

# Above this, a reset time is in milliseconds (1e11 s is the year 5138).
_MILLISECONDS_THRESHOLD = 1e11
# A little slack after a reset the server announced, for its clock and rounding.
RESET_MARGIN = 0.05
# The longest the server may make us wait at once: its windows are a minute, so five are
# plenty. A server that asks for more (``Retry-After: 864000``) is not obeyed: the request
# fails instead of sleeping for days. The budget's own waits are the user's choice.
MAX_WAIT = 5 * 60.0
# A ``Retry-After`` is read up to this (about 32 years): far past MAX_WAIT, so it fails the
# request all the same, and a number of any length stays a float.
_LONGEST_RETRY_AFTER = 10**9

_HISTORY = 1000  # answers kept without a budget, should the server impose one

_BUDGET = re.compile(r"\s*([0-9]{1,9})\s*/\s*([0-9]{1,9}(?:\.[0-9]{1,6})?)\s*")


@dataclass(frozen=True)
class Budget:
    """At most ``requests`` in any window of ``seconds``."""

    requests: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Budget:
        """``"60/60"``: 60 requests per 60 s. Raises ValueError saying what is wrong."""
        match = _BUDGET.fullmatch(text)
        if not match:
            raise ValueError(f"{text!r} is not N/SECONDS (e.g. 60/60)")
        requests, seconds = int(match.group(1)), float(match.group(2))
        if requests < 1 or seconds <= 0:
            raise ValueError(f"{text!r} is not N/SECONDS with both above zero (e.g. 60/60)")
        return cls(requests, seconds)

    def __str__(self) -> str:
        seconds = f"{self.seconds:.6f}".rstrip("0").rstrip(".")  # never an exponent
        return f"{self.requests}/{seconds}"


# Aircall documents 120 requests a minute per company; its own guides budget 60.
DEFAULT_BUDGET = Budget.parse(DEFAULT_RATE_LIMIT)


@dataclass(frozen=True)
class Recalled:
    """What earlier runs learnt about the account: the limit a 429 reported, and a block."""

    limit: int | None = None
    blocked_until: float = 0.0


class AccountMemory(Protocol):
    """The account's rate-limit state, shared by the runs of this tool on one machine: the
    budget is the account's, so requests another run sent a moment ago count too."""

    def recall(self) -> Recalled: ...

    def remember(self, limit: int | None, blocked_until: float) -> None: ...

    def others(self, since: float) -> list[float]:
        """When the other runs' requests since ``since`` were sent or answered."""
        ...

    def record(self, request: int, at: float, forget_before: float) -> None:
        """This run's request number ``request`` was sent (then answered) ``at``."""
        ...


def parse_reset(value: str | None) -> float | None:
    """A reset time as UNIX seconds; the header may be in seconds or milliseconds."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(number) or number <= 0:  # NaN, infinity (1e400) or nonsense
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
        return float(min(max(seconds, 0), _LONGEST_RETRY_AFTER))
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(when.timestamp() - now, 0.0)


class Pacer:
    """When the next request may be sent, from the budget and what the server said.

    ``budget`` None paces nothing of its own (a server without a limit); what the server
    says is obeyed all the same, over the default budget's window.
    """

    def __init__(self, budget: Budget | None, remembered: int | None = None) -> None:
        window = budget or DEFAULT_BUDGET
        self.seconds = window.seconds
        configured = budget.requests if budget is not None else None
        self.limit = _lowest(configured, remembered)
        # When each of the last requests was answered (or given up on), oldest first.
        self._answered: deque[float] = deque(maxlen=self.limit or _HISTORY)
        self.blocked_until = 0.0  # the server refuses everything before this
        self._allowance: int | None = None  # what the headers say is left before...
        self._allowance_until = 0.0  # ...this reset

    @property
    def budget(self) -> Budget | None:
        return Budget(self.limit, self.seconds) if self.limit is not None else None

    def budget_delay(self, now: float, others: Sequence[float] = ()) -> float:
        """How long the budget holds the next request back; ``others``: when the requests
        other runs of the account sent lately were sent or answered (a time older than a
        window holds nothing back, so none needs filtering out)."""
        if self.limit is None:
            return 0.0
        recent = sorted([*self._answered, *others])
        if len(recent) < self.limit:
            return 0.0
        return max(recent[-self.limit] + self.seconds - now, 0.0)

    def server_delay(self, now: float) -> float:
        """How long the server said to wait: a block, or a budget spent until its reset."""
        delay = self.blocked_until - now
        if self._allowance is not None and self._allowance <= 0:
            delay = max(delay, self._allowance_until + RESET_MARGIN - now)
        return max(delay, 0.0)

    def sent(self, answered_at: float) -> None:
        """Count a request: sent, and answered (or given up on) at ``answered_at``."""
        self._answered.append(answered_at)
        if self._allowance is not None:
            self._allowance -= 1

    def observe(self, headers: Mapping[str, str], now: float) -> None:
        """Tighten from an answer's rate-limit headers; absent or garbled ones say nothing."""
        self.lower(parse_int(headers.get(LIMIT_HEADER)))
        remaining = parse_int(headers.get(REMAINING_HEADER))
        reset = parse_reset(headers.get(RESET_HEADER))
        if self._allowance is not None and now >= self._allowance_until:
            self._allowance = None  # that window is over
        if remaining is None or reset is None or reset <= now:
            return
        fresh_window = self._allowance is None or reset != self._allowance_until
        if fresh_window or remaining < (self._allowance or 0):
            self._allowance, self._allowance_until = max(remaining, 0), reset

    def lower(self, limit: int | None) -> bool:
        """Adopt ``limit`` if it is lower than the budget in force; whether it was."""
        if limit is None or limit < 1 or (self.limit is not None and limit >= self.limit):
            return False
        self.limit = limit
        self._answered = deque(self._answered, maxlen=limit)
        return True

    def block(self, until: float) -> None:
        self.blocked_until = max(self.blocked_until, until)

    def reset_after(self, headers: Mapping[str, str], now: float) -> float | None:
        """Seconds until the reset an answer announces, if it announces one ahead."""
        reset = parse_reset(headers.get(RESET_HEADER))
        return reset - now + RESET_MARGIN if reset is not None and reset > now else None


def _lowest(*limits: int | None) -> int | None:
    known = [limit for limit in limits if limit is not None and limit >= 1]
    return min(known) if known else None
