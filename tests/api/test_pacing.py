"""Client-side pacing on an injected clock: the real ApiClient against the sandbox
app's own clock-aligned rate limiter, with simulated network latency. Nothing sleeps for
real: the client's ``sleep`` and the server's clock are the same fake clock.

What is asserted, per request the server saw: no 429 for a lone client, never more than the
budget in any window, at least 90 % of the allowed rate used over many windows, and a budget
drained by another client waited out (until the reset) rather than fought.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from aircall_ext.api.client import ApiClient
from aircall_ext.api.ratelimit import RESET_MARGIN, RatePacer, parse_reset
from aircall_ext.sandbox.app import SandboxApp
from aircall_ext.sandbox.demo import generate_account
from aircall_ext.sandbox.ratelimit import RateLimit, ResetUnit
from aircall_ext.sandbox.state import SandboxAccount
from aircall_ext.services.importer import Source, prepare, start_import

BASE = "https://api.pacing.test"
START = 1_700_000_000.37  # deliberately not on a window boundary


@dataclass
class Arrival:
    at: float  # when the server counted it
    status: int
    who: str  # "client" or "other"


@dataclass
class Sim:
    """A fake clock shared by a rate-limited sandbox app and the client under test."""

    limit: int
    seconds: float
    latency: float = 0.01  # round trip; half before the server counts the request
    jitter: float = 0.0  # latency varies in [1 - jitter, 1 + jitter] x latency
    reset_unit: ResetUnit = "s"
    account: SandboxAccount = field(default_factory=lambda: generate_account(10, seed=1))
    now: float = START
    arrivals: list[Arrival] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)  # what on_wait was told
    sleeps: list[float] = field(default_factory=list)  # what the client really slept

    def __post_init__(self) -> None:
        self._rng = random.Random(7)
        self._who = "client"
        self.app = SandboxApp(
            self.account,
            rate_limit=RateLimit(self.limit, self.seconds),
            reset_unit=self.reset_unit,
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

    def client(self) -> ApiClient:
        client = ApiClient(
            BASE, "id", "token", transport=self.transport, sleep=self.sleep, clock=self.clock
        )
        client.on_wait = self.waits.append
        return client

    def other_client_drains(self, leave: int = 0) -> None:
        """Another client of the same account spends the window's budget (no pacing), until
        only ``leave`` requests remain; ``leave=0`` goes on until it is refused (a 429)."""
        self._who = "other"
        try:
            with httpx.Client(base_url=BASE + "/", transport=self.transport) as raw:
                while True:
                    response = raw.get("company")
                    remaining = int(response.headers["X-AircallApi-Remaining"])
                    if response.status_code == 429 or (leave and remaining <= leave):
                        return
        finally:
            self._who = "client"

    def reset_of(self, at: float) -> float:
        return (math.floor(at / self.seconds) + 1) * self.seconds

    def mine(self) -> list[Arrival]:
        return [a for a in self.arrivals if a.who == "client"]

    def per_window(self, *, served: bool = False) -> Counter[int]:
        """Requests the server counted (or only those it served), per window, all clients."""
        return Counter(
            math.floor(a.at / self.seconds) for a in self.arrivals if not served or a.status == 200
        )


def run(sim: Sim, requests: int) -> ApiClient:
    client = sim.client()
    for _ in range(requests):
        client.get_company()
    return client


def full_window_use(sim: Sim) -> float:
    """Slots used in the windows the run covered from start to end (not the first and last,
    which the run only partly spans), over the slots those windows allowed."""
    counts = sim.per_window()
    first, last = min(counts), max(counts)
    full = range(first + 1, last)
    assert len(full) >= 5, "the run is too short to measure utilisation"
    return sum(counts[w] for w in full) / (sim.limit * len(full))


def rate_use(sim: Sim) -> float:
    """Requests over (elapsed x allowed rate), elapsed from the first arrival to the last."""
    mine = sim.mine()
    elapsed = mine[-1].at - mine[0].at
    return (len(mine) - 1) / (elapsed * sim.limit / sim.seconds)


# Realistic windows and latencies (the round trip well under the window's mean spacing).
LONE_CLIENT = [
    pytest.param(60, 60.0, 0.2, 0.0, "s", id="60/60s-200ms"),
    pytest.param(60, 60.0, 0.05, 0.5, "ms", id="60/60s-50ms-jitter-ms-reset"),
    pytest.param(30, 3.0, 0.005, 0.0, "s", id="30/3s-5ms"),
    pytest.param(30, 3.0, 0.04, 0.5, "ms", id="30/3s-40ms-jitter-ms-reset"),
    pytest.param(5, 1.0, 0.01, 0.0, "s", id="5/1s-10ms"),
    pytest.param(100, 10.0, 0.02, 0.9, "s", id="100/10s-20ms-jitter"),
]


@pytest.mark.parametrize(("limit", "seconds", "latency", "jitter", "unit"), LONE_CLIENT)
def test_a_lone_client_is_never_refused_and_uses_at_least_90_percent(
    limit: int, seconds: float, latency: float, jitter: float, unit: ResetUnit
) -> None:
    sim = Sim(limit, seconds, latency, jitter, reset_unit=unit)
    client = run(sim, limit * 12)
    assert [a for a in sim.arrivals if a.status != 200] == []
    assert client.request_count == limit * 12  # nothing was retried
    assert max(sim.per_window().values()) <= limit
    assert full_window_use(sim) >= 0.9
    assert rate_use(sim) >= 0.9
    assert sim.waits == sim.sleeps  # every wait was a pacing wait, and reported


@pytest.mark.parametrize(
    ("limit", "seconds", "latency", "jitter"),
    [
        pytest.param(30, 3.0, 0.3, 0.9, id="latency-above-the-spacing"),
        pytest.param(10, 2.0, 0.15, 0.9, id="lead-of-one-round-trip"),
        pytest.param(4, 1.0, 0.0, 0.0, id="tiny-budget-no-latency"),
        pytest.param(61, 7.0, 0.09, 0.9, id="odd-budget"),
    ],
)
def test_never_more_than_the_budget_in_any_window(
    limit: int, seconds: float, latency: float, jitter: float
) -> None:
    sim = Sim(limit, seconds, latency, jitter)
    run(sim, limit * 8)
    assert [a for a in sim.arrivals if a.status != 200] == []
    assert max(sim.per_window().values()) <= limit


def test_a_short_command_is_not_slowed_at_all() -> None:
    """Three listing pages out of 60: inside the free half of the budget, no wait."""
    sim = Sim(60, 60.0, account=generate_account(120, seed=3))
    users = sim.client().list_users()
    assert len(users) == 120
    assert len(sim.arrivals) == 3
    assert sim.sleeps == []


def test_budget_drained_mid_run_waits_for_the_reset_then_continues() -> None:
    sim = Sim(30, 3.0, 0.01)
    client = sim.client()
    for _ in range(5):
        client.get_company()
    sim.other_client_drains()  # the window is spent: its next request is refused
    drained_until = sim.reset_of(sim.now)
    for _ in range(40):
        client.get_company()
    mine = sim.mine()
    refused = [a for a in mine if a.status == 429]
    assert len(refused) == 1  # it could not know; after that, it knows when to come back
    after = mine[mine.index(refused[0]) + 1]
    assert after.status == 200
    assert after.at >= drained_until  # it waited for the reset, not a blind backoff
    assert after.at - drained_until < 1.0 + RESET_MARGIN + sim.latency  # Retry-After is whole s
    assert sum(sim.waits) >= drained_until - refused[0].at  # the wait was reported
    assert len([a for a in mine if a.status == 200]) == 45  # and every request was served
    assert max(sim.per_window(served=True).values()) <= 30


def test_budget_left_at_one_is_taken_and_then_the_reset_awaited_without_a_429() -> None:
    """Another client leaves one request: the client takes it, reads remaining 0 in the
    headers and waits for the reset instead of finding out with a 429."""
    sim = Sim(30, 3.0, 0.01)
    client = sim.client()
    client.get_company()
    sim.other_client_drains(leave=1)
    drained_until = sim.reset_of(sim.now)
    for _ in range(20):
        client.get_company()
    assert [a for a in sim.arrivals if a.status == 429] == []
    mine = sim.mine()
    assert mine[1].at < drained_until <= mine[2].at  # the last slot, then the next window
    assert max(sim.waits) >= drained_until - mine[1].at  # one wait covering the rest


def test_budget_drained_before_the_first_request() -> None:
    sim = Sim(10, 2.0, 0.01)
    sim.other_client_drains()
    drained_until = sim.reset_of(sim.now)
    client = run(sim, 12)
    statuses = [a.status for a in sim.mine()]
    assert statuses.count(429) == 1 and statuses[0] == 429
    assert statuses[1:] == [200] * 12
    assert sim.mine()[1].at >= drained_until
    assert client.request_count == 13


def test_reset_in_milliseconds_paces_exactly_like_seconds() -> None:
    runs = {}
    for unit in ("s", "ms"):
        sim = Sim(30, 3.0, 0.02, reset_unit=unit)
        run(sim, 100)
        runs[unit] = [round(a.at, 6) for a in sim.arrivals]
    assert runs["s"] == runs["ms"]


def test_reset_header_units() -> None:
    assert parse_reset("1700000003") == 1_700_000_003.0
    assert parse_reset("1700000003250") == pytest.approx(1_700_000_003.25)
    assert parse_reset("1700000003.5") == 1_700_000_003.5
    assert parse_reset("soon") is None
    assert parse_reset("nan") is None


def test_pacer_spreads_the_second_half_to_end_before_the_reset() -> None:
    pacer = RatePacer()
    now = 100.0
    reset = 110.0
    gaps = []
    for remaining in (5, 4, 3, 2, 1):
        headers = {
            "X-AircallApi-Limit": "10",
            "X-AircallApi-Remaining": str(remaining),
            "X-AircallApi-Reset": str(reset),
        }
        pacer.observe(headers, now, rtt=0.02)
        gap = pacer.delay(now)
        gaps.append(gap)
        now += gap
    assert gaps == pytest.approx([gaps[0]] * 5)  # even
    assert reset - 0.5 < now < reset  # the last slot is used inside the window


def test_missing_headers_mean_no_pacing() -> None:
    pacer = RatePacer()
    pacer.observe({}, 5.0)
    assert pacer.delay(5.0) == 0.0
    pacer.observe({"X-AircallApi-Remaining": "zero", "X-AircallApi-Reset": "x"}, 5.0)
    assert pacer.delay(5.0) == 0.0


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


def test_import_progress_shows_the_rate_limit_waits(tmp_path: Path) -> None:
    sim = Sim(10, 2.0, 0.01, account=generate_account(60, seed=5))
    users = [dict(u) for u in sim.account.users()]  # a copy: the app changes its own
    # Rotate the extensions of the first 25 users: one 25-cycle, 26 writes.
    exts = [u["extension"] for u in users[:25]]
    rows = [f"{u['id']},{exts[(i + 1) % 25]}" for i, u in enumerate(users[:25])]
    data = ("user_id,extension\n" + "\n".join(rows) + "\n").encode()
    source = Source("/data/rotate.csv", "rotate.csv", data)
    client = sim.client()
    before = client.on_wait
    progress = RecordingProgress()
    prepared = prepare(client, source)
    assert prepared.plan is not None and len(prepared.plan.steps) == 26
    outcome = start_import(
        client,
        prepared,
        {"host": "api.pacing.test", "api_id_sha256": None, "sandbox": False},
        journal_path=tmp_path / "journal.jsonl",
        progress=progress,
        fsync=False,
    )
    assert outcome.stopped is None and outcome.writes == 26
    waiting = [s for kind, s in progress.events if kind == "waiting"]
    assert waiting and all(s > 0 for s in waiting)
    # Waits inside the apply loop are shown between the writes they delay.
    kinds = [kind for kind, _ in progress.events]
    assert kinds.index("waiting") < kinds.index("end")
    assert client.on_wait is before  # the hook is given back after the job
    assert [a for a in sim.arrivals if a.status == 429] == []
    assert max(sim.per_window().values()) <= 10
    final = {u["id"]: u["extension"] for u in sim.account.users()}
    assert [final[u["id"]] for u in users[:25]] == [exts[(i + 1) % 25] for i in range(25)]
