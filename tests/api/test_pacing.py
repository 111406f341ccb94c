"""Client-side pacing on an injected clock: the real ApiClient against the sandbox app's own
rate limiter, in the live API's mode (no headers until the budget is spent, then a block),
with simulated network latency. Nothing sleeps for real: the client's ``sleep`` and the
server's clock are the same fake clock.

What is asserted, per request the server saw: no 429 for a lone client whose budget is at
or under the server's, never more than the budget in any window of its length, at least
90 % of the budget used over many windows, headers that only tighten, a 429's limit adopted
and remembered for the next run, and another client's block waited out.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aircall_ext.api.client import ApiClient
from aircall_ext.api.ratelimit import (
    DEFAULT_BUDGET,
    MAX_WAIT,
    Budget,
    Pacer,
    Recalled,
    parse_reset,
    parse_retry_after,
)
from aircall_ext.core.identity import AccountIdentity
from aircall_ext.errors import ApiError
from aircall_ext.names import rate_limits_path
from aircall_ext.sandbox.app import SandboxApp
from aircall_ext.sandbox.demo import generate_account
from aircall_ext.sandbox.ratelimit import RateHeaders, RateLimit, ResetUnit
from aircall_ext.sandbox.state import SandboxAccount
from aircall_ext.services.importjob import (
    Connected,
    FromCsv,
    ImportJob,
    ImportOptions,
    ImportUi,
    Prepared,
    Progress,
)
from aircall_ext.services.ratelimits import AccountRateLimit

BASE = "https://api.pacing.test"
START = 1_700_000_000.37  # deliberately not on a window boundary


@dataclass
class Arrival:
    at: float  # when the server counted it
    status: int
    who: str  # "client" or "other"


@dataclass
class Memory:
    """The account's shared rate-limit state, in memory (the real one is a cache file)."""

    limit: int | None = None
    blocked_until: float = 0.0
    remembered: list[int] = field(default_factory=list)
    other_runs: list[float] = field(default_factory=list)
    recorded: dict[int, float] = field(default_factory=dict)

    def recall(self) -> Recalled:
        return Recalled(self.limit, self.blocked_until)

    def remember(self, limit: int | None, blocked_until: float) -> None:
        if limit is not None:
            self.remembered.append(limit)
            self.limit = limit
        self.blocked_until = max(self.blocked_until, blocked_until)

    def others(self, since: float) -> list[float]:
        return [at for at in self.other_runs if at > since]

    def record(self, request: int, at: float, forget_before: float) -> None:
        self.recorded[request] = at


@dataclass
class Sim:
    """A fake clock shared by a rate-limited sandbox app and the clients under test."""

    limit: int
    seconds: float
    latency: float = 0.01  # round trip; half before the server counts the request
    jitter: float = 0.0  # latency varies in [1 - jitter, 1 + jitter] x latency
    reset_unit: ResetUnit = "s"
    rate_headers: RateHeaders = "on-429"
    block_seconds: float | None = None
    account: SandboxAccount = field(default_factory=lambda: generate_account(10, seed=1))
    now: float = START
    arrivals: list[Arrival] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)  # what on_wait was told
    sleeps: list[float] = field(default_factory=list)  # what the client really slept
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(7)
        self._who = "client"
        self.app = SandboxApp(
            self.account,
            rate_limit=RateLimit(self.limit, self.seconds),
            reset_unit=self.reset_unit,
            rate_headers=self.rate_headers,
            block_seconds=self.block_seconds,
            clock=self.clock,
            sleep=self.sleep,
        )
        self.transport = httpx.WSGITransport(app=self._wsgi)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def _wsgi(self, environ: Any, start_response: Any) -> Iterable[bytes]:
        latency = self.latency * (1 + self.jitter * (2 * self._rng.random() - 1))
        self.now += latency / 2
        arrived = self.now
        statuses: list[int] = []

        def start(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(int(status.split()[0]))
            return start_response(status, headers, exc_info)

        body = self.app(environ, start)
        self.arrivals.append(Arrival(arrived, statuses[0], self._who))
        self.now += latency / 2
        return body

    def client(self, budget: str | None = None, memory: Any = None) -> ApiClient:
        client = ApiClient(
            BASE,
            "id",
            "token",
            transport=self.transport,
            sleep=self.sleep,
            clock=self.clock,
            warn=self.warnings.append,
            budget=Budget.parse(budget or f"{self.limit}/{self.seconds:g}"),
            memory=memory,
        )
        client.on_wait = self.waits.append
        return client

    def other_client_drains(self, leave: int = 0) -> None:
        """Another client of the same account sends without pacing until it is refused (a
        429, and the block begins), or, with headers on every answer, until only ``leave``
        requests remain."""
        self._who = "other"
        try:
            with httpx.Client(base_url=BASE + "/", transport=self.transport) as raw:
                while True:
                    response = raw.get("v1/company")
                    remaining = response.headers.get("X-AircallApi-Remaining")
                    if response.status_code == 429 or (leave and int(remaining or 0) <= leave):
                        return
        finally:
            self._who = "client"

    def reset_of(self, at: float) -> float:
        return (math.floor(at / self.seconds) + 1) * self.seconds

    def mine(self) -> list[Arrival]:
        return [a for a in self.arrivals if a.who == "client"]

    def refused(self) -> list[Arrival]:
        return [a for a in self.arrivals if a.status == 429]

    def per_window(self) -> Counter[int]:
        """Requests the server counted per clock-aligned window, all clients."""
        return Counter(math.floor(a.at / self.seconds) for a in self.arrivals)


def run(sim: Sim, requests: int, budget: str | None = None) -> ApiClient:
    client = sim.client(budget)
    for _ in range(requests):
        client.get_company()
    return client


def most_in_any_window(arrivals: list[Arrival], seconds: float) -> int:
    """The most requests any window of ``seconds`` holds, wherever it starts."""
    times = sorted(a.at for a in arrivals)
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def full_window_use(sim: Sim, budget: int) -> float:
    """Slots used in the windows the run covered from start to end (not the first and last,
    which the run only partly spans), over what the budget allows in them."""
    counts = sim.per_window()
    first, last = min(counts), max(counts)
    full = range(first + 1, last)
    assert len(full) >= 5, "the run is too short to measure utilisation"
    return sum(counts[w] for w in full) / (budget * len(full))


# -- a lone client ------------------------------------------------------------------------

# Realistic windows and latencies (the round trip well under the window's mean spacing).
LONE_CLIENT = [
    pytest.param(60, 60.0, 0.2, 0.0, id="60/60s-200ms"),
    pytest.param(60, 60.0, 0.05, 0.5, id="60/60s-50ms-jitter"),
    pytest.param(30, 3.0, 0.005, 0.0, id="30/3s-5ms"),
    pytest.param(30, 3.0, 0.04, 0.5, id="30/3s-40ms-jitter"),
    pytest.param(5, 1.0, 0.01, 0.0, id="5/1s-10ms"),
    pytest.param(100, 10.0, 0.02, 0.9, id="100/10s-20ms-jitter"),
]


@pytest.mark.parametrize(("limit", "seconds", "latency", "jitter"), LONE_CLIENT)
def test_a_lone_client_on_the_servers_budget_is_never_refused_and_uses_90_percent(
    limit: int, seconds: float, latency: float, jitter: float
) -> None:
    sim = Sim(limit, seconds, latency, jitter)
    client = run(sim, limit * 12)
    assert sim.refused() == []
    assert client.request_count == limit * 12  # nothing was retried
    assert most_in_any_window(sim.mine(), seconds) <= limit
    assert full_window_use(sim, limit) >= 0.9
    assert sim.waits == sim.sleeps and sim.waits  # it paced, and said so every time


def test_a_budget_under_the_servers_is_kept_and_used() -> None:
    sim = Sim(30, 3.0, 0.03, 0.5)
    run(sim, 20 * 12, budget="20/3")
    assert sim.refused() == []
    assert most_in_any_window(sim.mine(), 3.0) <= 20
    assert full_window_use(sim, 20) >= 0.9


@pytest.mark.parametrize(
    ("limit", "seconds", "latency", "jitter"),
    [
        pytest.param(30, 3.0, 0.3, 0.9, id="latency-above-the-spacing"),
        pytest.param(10, 2.0, 0.15, 0.9, id="long-round-trips"),
        pytest.param(4, 1.0, 0.0, 0.0, id="tiny-budget-no-latency"),
        pytest.param(61, 7.0, 0.09, 0.9, id="odd-budget"),
    ],
)
def test_never_more_than_the_budget_in_any_window(
    limit: int, seconds: float, latency: float, jitter: float
) -> None:
    sim = Sim(limit, seconds, latency, jitter)
    run(sim, limit * 8)
    assert sim.refused() == []
    assert most_in_any_window(sim.mine(), seconds) <= limit


def test_a_short_command_is_not_slowed_at_all() -> None:
    """Three listing pages of a 60/60 budget: no wait."""
    sim = Sim(60, 60.0, account=generate_account(120, seed=3))
    users = sim.client().list_users()
    assert len(users) == 120
    assert len(sim.arrivals) == 3
    assert sim.sleeps == []


def test_a_burst_up_to_the_budget_goes_out_at_once_and_the_next_request_waits() -> None:
    sim = Sim(60, 60.0, 0.1)
    client = run(sim, 60)
    assert sim.sleeps == []
    client.get_company()
    assert sim.mine()[60].at - sim.mine()[0].at >= 60.0
    assert sim.refused() == []


def test_a_budget_without_headers_is_paced_where_header_pacing_would_not_be() -> None:
    """The live API says nothing until the budget is spent: a long run must pace anyway."""
    sim = Sim(12, 3.0, 0.02)
    run(sim, 60)
    assert sim.refused() == []


# -- headers only tighten ---------------------------------------------------------------------


def test_a_lower_limit_in_the_headers_lowers_the_budget() -> None:
    sim = Sim(10, 3.0, 0.02, rate_headers="always")
    run(sim, 80, budget="30/3")
    assert sim.refused() == []
    assert most_in_any_window(sim.mine(), 3.0) <= 10
    assert sim.warnings == []  # only a 429's limit is news worth remembering


def test_a_higher_limit_in_the_headers_never_raises_the_budget() -> None:
    sim = Sim(100, 3.0, 0.02, rate_headers="always")
    run(sim, 60, budget="10/3")
    assert most_in_any_window(sim.mine(), 3.0) <= 10


def test_fewer_remaining_is_taken_then_the_reset_awaited_without_a_429() -> None:
    """Another client leaves one request: the client takes it, reads remaining 0 and waits
    for the reset instead of finding out with a 429."""
    sim = Sim(30, 3.0, 0.01, rate_headers="always")
    client = sim.client()
    client.get_company()
    sim.other_client_drains(leave=1)
    drained_until = sim.reset_of(sim.now)
    for _ in range(20):
        client.get_company()
    assert sim.refused() == []
    mine = sim.mine()
    assert mine[1].at < drained_until <= mine[2].at  # the last slot, then the next window


def test_reset_in_milliseconds_paces_exactly_like_seconds() -> None:
    runs = {}
    for unit in ("s", "ms"):
        sim = Sim(10, 3.0, 0.02, reset_unit=unit, rate_headers="always")
        run(sim, 60, budget="30/3")
        runs[unit] = [round(a.at, 6) for a in sim.arrivals]
    assert runs["s"] == runs["ms"]


def test_reset_header_units() -> None:
    assert parse_reset("1700000003") == 1_700_000_003.0
    assert parse_reset("1700000003250") == pytest.approx(1_700_000_003.25)
    assert parse_reset("1700000003.5") == 1_700_000_003.5
    assert parse_reset("soon") is None
    assert parse_reset("nan") is None
    assert parse_reset("1e400") is None and parse_reset("inf") is None  # no time, however far


@given(st.one_of(st.text(), st.integers(-(10**500), 10**500).map(str)))
def test_any_retry_after_is_a_delay_or_nothing_never_an_error(value: str) -> None:
    delay = parse_retry_after(value, START)
    assert delay is None or 0.0 <= delay <= 10**9


@given(
    st.integers(1, 8),
    st.lists(st.floats(0.0, 30.0), max_size=12),
    st.lists(st.floats(0.0, 30.0), max_size=12),
)
def test_requests_older_than_a_window_never_hold_the_next_back(
    limit: int, answered: list[float], others: list[float]
) -> None:
    now, seconds = 30.0, 10.0
    pacer = Pacer(Budget(limit, seconds))
    for at in sorted(answered):
        pacer.sent(at)
    within = [at for at in others if at > now - seconds]
    assert pacer.budget_delay(now, others) == pacer.budget_delay(now, within)


def test_missing_or_garbled_headers_change_nothing() -> None:
    pacer = Pacer(Budget(5, 1.0))
    for headers in ({}, {"X-AircallApi-Limit": "x", "X-AircallApi-Remaining": "zero"}):
        pacer.observe(headers, 5.0)
        pacer.sent(5.0)
    assert pacer.budget == Budget(5, 1.0)
    assert pacer.server_delay(5.0) == 0.0 and pacer.budget_delay(5.0) == 0.0


# -- a 429: wait, adopt its limit, remember it -----------------------------------------------------


def test_a_429_is_waited_out_its_limit_adopted_and_remembered() -> None:
    sim = Sim(20, 3.0, 0.02)
    memory = Memory()
    client = sim.client("60/3", memory)
    for _ in range(200):
        client.get_company()
    mine = sim.mine()
    refused = [i for i, a in enumerate(mine) if a.status == 429]
    assert len(refused) == 1  # the first burst overshoots the server's 20; then never again
    blocked_until = mine[refused[0]].at + 3.0
    assert mine[refused[0] + 1].at >= blocked_until  # nothing is sent during the block
    assert most_in_any_window(mine[refused[0] + 1 :], 3.0) <= 20
    assert client.pacer.budget == Budget(20, 3.0)
    assert memory.remembered == [20]
    assert sim.warnings == [
        "the API limited us to 20 requests (HTTP 429): pacing at 20/3 from now on; "
        "remembered for this account"
    ]
    assert len([a for a in mine if a.status == 200]) == 200


def account(sim: Sim, api_id: str = "the-api-id") -> AccountRateLimit:
    """The account's state in the cache file, as one more run of the tool sees it."""
    return AccountRateLimit.of(BASE, api_id, sim.warnings.append)


def test_the_next_run_starts_at_the_remembered_limit() -> None:
    first = Sim(20, 3.0, 0.02)
    client = first.client("60/3", account(first))
    for _ in range(40):
        client.get_company()
    assert len(first.refused()) == 1
    stored = rate_limits_path().read_text()
    assert "the-api-id" not in stored  # the account is a fingerprint, never the ID
    assert [entry["limit"] for entry in json.loads(stored)["accounts"].values()] == [20]

    second = Sim(20, 3.0, 0.02, now=first.now + 60)  # a later run
    client = second.client("60/3", account(second))
    assert client.pacer.budget == Budget(20, 3.0)
    for _ in range(100):
        client.get_company()
    assert second.refused() == [] and second.warnings == []
    assert account(second, "another-api-id").recall() == Recalled()  # another account


def test_a_run_right_after_another_counts_its_requests() -> None:
    """A resume just after Ctrl-C, or a script's next command: one budget, not two."""
    sim = Sim(10, 3.0, 0.02)
    first = sim.client(memory=account(sim))
    for _ in range(10):
        first.get_company()
    second = sim.client(memory=account(sim))
    for _ in range(30):
        second.get_company()
    assert sim.refused() == []
    assert most_in_any_window(sim.mine(), 3.0) <= 10


def test_a_lone_run_does_not_count_its_own_requests_twice() -> None:
    sim = Sim(30, 3.0, 0.03, 0.5)
    client = sim.client(memory=account(sim))
    for _ in range(30 * 12):
        client.get_company()
    assert sim.refused() == []
    assert full_window_use(sim, 30) >= 0.9


def test_a_block_another_run_met_is_waited_out_without_a_request() -> None:
    sim = Sim(5, 3.0, 0.02)
    first = sim.client("60/3", account(sim))
    for _ in range(6):  # the sixth is refused: a block of 3 s
        first.get_company()
    blocked_until = sim.refused()[0].at + 3.0
    second = sim.client("5/3", account(sim))  # the first run was stopped during the block
    second.get_company()
    assert len(sim.refused()) == 1
    assert sim.mine()[-1].at >= blocked_until


def test_a_remembered_block_further_ahead_than_any_block_is_written_is_ignored() -> None:
    sim = Sim(5, 3.0)
    client = sim.client("5/3", Memory(blocked_until=1e12))  # a damaged or skewed cache
    client.get_company()
    assert sim.waits == []
    assert [a.status for a in sim.arrivals] == [200]


def test_a_remembered_block_within_the_longest_wait_is_waited_out() -> None:
    sim = Sim(5, 3.0)
    client = sim.client("5/3", Memory(blocked_until=sim.now + MAX_WAIT))
    client.get_company()
    assert sim.waits == [MAX_WAIT]
    assert [a.status for a in sim.arrivals] == [200]


def test_a_new_block_replaces_a_damaged_one_and_keeps_another_runs_later_one(
    tmp_path: Path,
) -> None:
    memory = AccountRateLimit(tmp_path / "rate-limits.json", "host fingerprint", print)
    memory.remember(None, 1e12)  # damage: no run writes a block that far ahead
    memory.remember(None, START + 60)
    assert memory.recall().blocked_until == START + 60
    memory.remember(None, START + 200)  # another run's, ending later
    memory.remember(None, START + 30)
    assert memory.recall().blocked_until == START + 200


def test_a_remembered_limit_above_the_budget_changes_nothing() -> None:
    sim = Sim(30, 3.0)
    client = sim.client("10/3", Memory(limit=25))
    assert client.pacer.budget == Budget(10, 3.0)


def test_an_unreadable_cache_remembers_nothing_and_a_failed_write_is_one_warning(
    tmp_path: Path,
) -> None:
    warnings: list[str] = []
    broken = tmp_path / "rate-limits.json"
    broken.write_text("{not json")
    memory = AccountRateLimit(broken, "host fingerprint", warnings.append)
    assert memory.recall() == Recalled()
    memory.remember(20, 5.0)
    assert memory.recall() == Recalled(20, 5.0)
    (tmp_path / "file").write_text("")
    unwritable = AccountRateLimit(tmp_path / "file" / "below-a-file.json", "k", warnings.append)
    unwritable.remember(20, 0.0)
    unwritable.record(1, 5.0, forget_before=2.0)
    assert len(warnings) == 1 and "cannot keep the API's rate-limit state" in warnings[0]


def test_a_retry_after_beyond_five_minutes_fails_the_request_and_sends_nothing_more() -> None:
    sim = Sim(1, 60.0, block_seconds=MAX_WAIT + 300)
    client = sim.client("5/60")
    client.get_company()
    with pytest.raises(ApiError, match=r"asked to wait 600 s, more than the 300 s") as caught:
        client.get_company()
    assert caught.value.exit_code == 4
    assert [a.status for a in sim.arrivals] == [200, 429]


def test_a_reset_beyond_five_minutes_without_retry_after_fails_too() -> None:
    now = START

    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"X-AircallApi-Limit": "60", "X-AircallApi-Reset": str(int(now + 900))}
        return httpx.Response(429, json={"error": "Too Many Requests"}, headers=headers)

    client = ApiClient(
        BASE, "id", "token", transport=httpx.MockTransport(answer), clock=lambda: now
    )
    with pytest.raises(ApiError, match=r"asked to wait 900 s"):
        client.get_company()
    assert client.request_count == 1


def test_a_429_that_says_nothing_waits_one_window() -> None:
    sleeps: list[float] = []
    statuses = iter([429, 200])

    def answer(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        body = {"company": {"name": "C"}} if status == 200 else {"error": "Too Many Requests"}
        return httpx.Response(status, json=body)

    client = ApiClient(
        BASE,
        "id",
        "token",
        transport=httpx.MockTransport(answer),
        clock=lambda: START + sum(sleeps),
        sleep=sleeps.append,
        budget=Budget(30, 3.0),
    )
    assert client.get_company().name == "C"
    assert sleeps == [3.0]


# -- another client of the account drains the budget -----------------------------------------------


def test_a_budget_drained_by_another_client_is_waited_out_through_the_block() -> None:
    sim = Sim(30, 3.0, 0.01)
    client = sim.client()
    for _ in range(5):
        client.get_company()
    sim.other_client_drains()  # the budget is spent: the server blocks everyone for 3 s
    blocked_until = sim.refused()[-1].at + 3.0
    for _ in range(40):
        client.get_company()
    mine = sim.mine()
    refused = [i for i, a in enumerate(mine) if a.status == 429]
    assert len(refused) == 1  # it could not know; after that, it knows when to come back
    after = mine[refused[0] + 1]
    assert after.at >= blocked_until  # it waited for the block to end, not blindly
    assert after.at - blocked_until < 1.0 + sim.latency  # Retry-After is whole seconds
    assert sum(sim.waits) >= blocked_until - mine[refused[0]].at  # the wait was reported
    assert len([a for a in mine if a.status == 200]) == 45  # every request was served
    assert client.pacer.budget == Budget(30, 3.0)  # the same limit: nothing to adopt
    assert sim.warnings == []


def test_a_budget_drained_before_the_first_request() -> None:
    sim = Sim(10, 2.0, 0.01)
    sim.other_client_drains()
    blocked_until = sim.arrivals[-1].at + 2.0
    client = run(sim, 12)
    statuses = [a.status for a in sim.mine()]
    assert statuses == [429] + [200] * 12
    assert sim.mine()[1].at >= blocked_until
    assert client.request_count == 13


# -- the budget's text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "budget"),
    [("60/60", Budget(60, 60.0)), (" 30 / 3 ", Budget(30, 3.0)), ("5/0.5", Budget(5, 0.5))],
)
def test_budgets_parse(text: str, budget: Budget) -> None:
    assert Budget.parse(text) == budget


@pytest.mark.parametrize("text", ["60", "0/60", "60/0", "a/b", "-1/60", "60/60/1", "", "6e1/60"])
def test_bad_budgets_say_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not N/SECONDS"):
        Budget.parse(text)


@given(st.integers(1, 10**9 - 1), st.integers(1, 10**9 - 1), st.integers(0, 999_999))
def test_a_budget_reads_back_what_it_prints(requests: int, whole: int, micros: int) -> None:
    seconds = f"{whole}.{micros:06d}"
    budget = Budget.parse(f"{requests}/{seconds}")
    assert budget == Budget(requests, float(seconds))
    assert Budget.parse(str(budget)) == budget


@given(st.text(max_size=16))
def test_any_text_is_a_budget_or_a_value_error(text: str) -> None:
    try:
        budget = Budget.parse(text)
    except ValueError as err:
        assert "N/SECONDS" in str(err)
    else:
        assert budget.requests >= 1 and budget.seconds > 0


def test_the_default_budget_is_aircalls_guide() -> None:
    assert str(DEFAULT_BUDGET) == "60/60"


# -- the import's progress bar is told about the waits ---------------------------------


@dataclass
class RecordingProgress:
    events: list[tuple[str, float]] = field(default_factory=list)

    def begin(self, total: int) -> None:
        self.events.append(("begin", total))

    def advance(self, done: int, total: int) -> None:
        self.events.append(("advance", done))

    def waiting(self, seconds: float) -> None:
        self.events.append(("waiting", seconds))

    def end(self) -> None:
        self.events.append(("end", 0))


def test_import_progress_shows_the_budget_waits(tmp_path: Path) -> None:
    sim = Sim(10, 2.0, 0.01, account=generate_account(60, seed=5))
    users = [dict(u) for u in sim.account.users()]  # a copy: the app changes its own
    # Rotate the extensions of the first 25 users: one 25-cycle, 26 writes.
    exts = [u["extension"] for u in users[:25]]
    rows = [f"{u['id']},{exts[(i + 1) % 25]}" for i, u in enumerate(users[:25])]
    data = ("user_id,extension\n" + "\n".join(rows) + "\n").encode()
    csv = tmp_path / "rotate.csv"
    csv.write_bytes(data)
    client = sim.client()
    before = client.on_wait
    progress = RecordingProgress()

    class Ui(ImportUi):
        def progress(self) -> Progress:
            return progress

        def show(self, prepared: Prepared) -> None:
            assert prepared.plan is not None and len(prepared.plan.steps) == 26

    identity = AccountIdentity("api.pacing.test", None)
    options = ImportOptions(yes=True, journal=tmp_path / "journal.jsonl", fsync=False)
    outcome = ImportJob(FromCsv(str(csv)), Connected(client, identity), options, Ui()).run()
    assert outcome.stopped is None and outcome.writes == 26
    waiting = [s for kind, s in progress.events if kind == "waiting"]
    assert waiting and all(s > 0 for s in waiting)
    # Waits inside the apply loop are shown between the writes they delay.
    kinds = [kind for kind, _ in progress.events]
    assert kinds.index("waiting") < kinds.index("end")
    assert client.on_wait is before  # the hook is given back after the job
    assert sim.refused() == []
    assert most_in_any_window(sim.mine(), 2.0) <= 10
    final = {u["id"]: u["extension"] for u in sim.account.users()}
    assert [final[u["id"]] for u in users[:25]] == [exts[(i + 1) % 25] for i in range(25)]
