"""Server-side rate limiting with an injected clock: the live API's behaviour by default (no
headers until the budget is spent, then a block), and headers on every answer on request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aircall_ext.sandbox.app import SandboxApp
from aircall_ext.sandbox.demo import demo_account
from aircall_ext.sandbox.ratelimit import FixedWindowLimiter, RateLimit, format_reset
from tests.conftest import RunCli

HEADERS = ("x-aircallapi-limit", "x-aircallapi-remaining", "x-aircallapi-reset")
START = 1_700_000_010.0  # 30 s before its 60-s window ends (at 1_700_000_040)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limited(requests: int, seconds: float, clock: Clock, **kwargs: Any) -> httpx.Client:
    app = SandboxApp(
        demo_account(),
        credentials=("id", "token"),
        rate_limit=RateLimit(requests, seconds),
        clock=clock,
        **kwargs,
    )
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url="http://sandbox.test",
        auth=("id", "token"),
    )


def has_limit_headers(response: httpx.Response) -> bool:
    present = [name in response.headers for name in HEADERS]
    assert all(present) or not any(present), response.headers  # all three or none
    return all(present)


# -- the live behaviour (the default) ---------------------------------------------------------


def answers_of_every_kind(http: httpx.Client) -> list[httpx.Response]:
    """A success, a 404, a refused write, a 403 and an unknown path."""
    responses = [
        http.get("/v1/company"),
        http.get("/v2/users/999"),
        http.put("/v2/users/481002", json={"extension": "101"}),
        http.get("/v1/company", auth=("id", "wrong")),
        http.get("/nope"),
    ]
    assert [r.status_code for r in responses] == [200, 404, 422, 403, 404]
    return responses


def test_answers_within_the_budget_carry_no_rate_limit_headers() -> None:
    responses = answers_of_every_kind(limited(10, 60, Clock(START)))
    assert not any(has_limit_headers(r) for r in responses)


def test_the_request_over_the_budget_is_a_429_with_the_headers_and_retry_after() -> None:
    http = limited(2, 60, Clock(START))
    assert [http.get("/v1/company").status_code for _ in range(2)] == [200, 200]
    refused = http.get("/v1/company")
    assert refused.status_code == 429
    assert refused.json()["error"] == "Too Many Requests"
    # The block lasts the window's length from the refusal (default), past the window's end.
    assert refused.headers["retry-after"] == "60"
    assert refused.headers["x-aircallapi-limit"] == "2"
    assert refused.headers["x-aircallapi-remaining"] == "0"
    assert refused.headers["x-aircallapi-reset"] == str(int(START + 60))


def test_every_request_is_refused_until_the_block_ends() -> None:
    clock = Clock(START)
    http = limited(2, 60, clock)
    for _ in range(3):
        http.get("/v1/company")
    clock.now = START + 30  # a new window has begun, but the block is on
    during = [
        http.get("/v2/users"),
        http.put("/v2/users/481002", json={"extension": "150"}),
        http.get("/v1/company", auth=("id", "wrong")),
    ]
    assert [r.status_code for r in during] == [429, 429, 429]
    assert all(has_limit_headers(r) for r in during)
    assert {r.headers["retry-after"] for r in during} == {"30"}
    clock.now = START + 59.5
    assert http.get("/v1/company").headers["retry-after"] == "1"  # rounded up
    clock.now = START + 60
    assert http.get("/v1/company").status_code == 200


def test_requests_refused_during_a_block_do_not_count_against_the_next_window() -> None:
    clock = Clock(START)
    http = limited(3, 60, clock)
    for _ in range(4):
        http.get("/v1/company")
    clock.now = START + 50
    for _ in range(10):
        assert http.get("/v1/company").status_code == 429
    clock.now = START + 70  # the block is over, in the window from START + 50
    assert [http.get("/v1/company").status_code for _ in range(4)] == [200, 200, 200, 429]


@pytest.mark.parametrize(
    ("block", "served_at"),
    [
        pytest.param(5.0, START + 30, id="shorter-than-the-window-lasts-until-its-end"),
        pytest.param(0.0, START + 30, id="zero-refuses-until-the-window-ends"),
        pytest.param(90.0, START + 90, id="longer-than-the-window"),
    ],
)
def test_block_seconds_sets_the_block_never_shorter_than_the_window(
    block: float, served_at: float
) -> None:
    clock = Clock(START)
    http = limited(1, 60, clock, block_seconds=block)
    http.get("/v1/company")
    assert http.get("/v1/company").status_code == 429
    clock.now = served_at - 0.01
    assert http.get("/v1/company").status_code == 429
    clock.now = served_at
    assert http.get("/v1/company").status_code == 200


def test_refused_requests_do_not_write() -> None:
    clock = Clock(0.5)
    app = SandboxApp(demo_account(), rate_limit=RateLimit(1, 10), clock=clock)
    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://s")
    http.get("/v1/company")
    assert http.put("/v2/users/481002", json={"extension": "150"}).status_code == 429
    assert next(u for u in app.document()["users"] if u["id"] == 481002)["extension"] == "102"


def test_an_injected_429_carries_the_headers_as_a_spent_budget_would() -> None:
    app = SandboxApp(
        demo_account(),
        rate_limit=RateLimit(100, 60),
        clock=Clock(START),
        faults=_always_429(),
    )
    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://s")
    response = http.get("/v1/company")
    assert response.status_code == 429
    assert response.headers["x-aircallapi-limit"] == "100"
    assert response.headers["x-aircallapi-remaining"] == "0"
    assert float(response.headers["x-aircallapi-reset"]) == START + 1


def _always_429() -> Any:
    from aircall_ext.sandbox.faults import FaultInjector, FaultPlan

    return FaultInjector(FaultPlan.parse("429:1"), seed=1)


def test_reset_can_be_sent_in_milliseconds() -> None:
    http = limited(1, 60, Clock(START), reset_unit="ms")
    http.get("/v1/company")
    assert http.get("/v1/company").headers["x-aircallapi-reset"] == str(int(START + 60) * 1000)


# -- headers on every answer (--rate-headers always) ----------------------------------------


def test_always_puts_the_headers_on_every_answer_errors_included() -> None:
    responses = answers_of_every_kind(limited(10, 60, Clock(START), rate_headers="always"))
    assert all(has_limit_headers(r) for r in responses)
    assert [r.headers["x-aircallapi-remaining"] for r in responses] == ["9", "8", "7", "6", "5"]
    assert {r.headers["x-aircallapi-reset"] for r in responses} == {"1700000040"}
    assert {r.headers["x-aircallapi-limit"] for r in responses} == {"10"}


def test_fractional_windows_announce_a_fractional_reset() -> None:
    assert format_reset(10.5, "s") == "10.5"
    assert format_reset(10.0, "s") == "10"
    assert format_reset(10.0001, "s") == "10"
    http = limited(5, 0.5, Clock(100.2), rate_headers="always")
    assert http.get("/v1/company").headers["x-aircallapi-reset"] == "100.5"


def test_no_rate_limit_means_no_headers() -> None:
    app = SandboxApp(demo_account(), rate_headers="always")
    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://s")
    assert not has_limit_headers(http.get("/v1/company"))


# -- the limiter ------------------------------------------------------------------------------


def test_windows_are_aligned_on_the_clock() -> None:
    clock = Clock(120.5)
    limiter = FixedWindowLimiter(RateLimit(3, 60), clock, block_seconds=0)
    decisions = [limiter.hit() for _ in range(4)]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert {d.reset_at for d in decisions} == {180}
    assert decisions[-1].retry_after == 60  # ceil(180 - 120.5)
    clock.now = 180.0  # the announced reset: a fresh budget, exactly then
    fresh = limiter.hit()
    assert (fresh.allowed, fresh.remaining, fresh.reset_at) == (True, 2, 240)


@pytest.mark.parametrize(("text", "expected"), [("60/60", (60, 60.0)), (" 5 / 0.5 ", (5, 0.5))])
def test_parse_rate_limit(text: str, expected: tuple[int, float]) -> None:
    limit = RateLimit.parse(text)
    assert (limit.requests, limit.seconds) == expected


@pytest.mark.parametrize("text", ["60", "0/60", "5/0", "a/b", "-1/60", "5/60/1", ""])
def test_bad_rate_limits_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match=r"N/SECONDS"):
        RateLimit.parse(text)


@given(st.text(max_size=12))
def test_a_rate_limit_parses_or_says_why(text: str) -> None:
    try:
        limit = RateLimit.parse(text)
    except ValueError as err:
        assert "N/SECONDS" in str(err)
    else:
        assert limit.requests >= 1 and limit.seconds > 0


# -- sandbox serve's options reach the app ------------------------------------------------------


def serve_and_probe(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, *options: str
) -> list[httpx.Response]:
    """Run ``sandbox serve OPTIONS`` in-process; instead of serving, send three requests to
    its app. Windows of an hour: the three land in one."""
    from aircall_ext.sandbox import server as server_module

    answers: list[httpx.Response] = []

    def probe(server: Any) -> str | None:
        transport = httpx.WSGITransport(app=server.get_app())
        with httpx.Client(transport=transport, base_url="http://s", auth=("i", "t")) as http:
            answers.extend(http.get("/v1/company") for _ in range(3))
        return None

    monkeypatch.setattr(server_module, "serve_until_signalled", probe)
    result = run_cli(
        "sandbox", "serve", "--port", "0", "--api-id", "i", "--api-token", "t", *options
    )
    assert result.exit_code == 0, result.stderr
    return answers


def test_serve_is_live_by_default_and_blocks_for_the_window(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = serve_and_probe(run_cli, monkeypatch, "--rate-limit", "2/3600")
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert [has_limit_headers(r) for r in answers] == [False, False, True]
    assert answers[2].headers["retry-after"] == "3600"


def test_serve_block_seconds_and_rate_headers_always(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = serve_and_probe(
        run_cli,
        monkeypatch,
        "--rate-limit",
        "2/3600",
        "--block-seconds",
        "7200",
        "--rate-headers",
        "always",
    )
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert all(has_limit_headers(r) for r in answers)
    assert answers[2].headers["retry-after"] == "7200"


@pytest.mark.parametrize(
    ("option", "value"), [("--rate-headers", "sometimes"), ("--block-seconds", "-1")]
)
def test_serve_rejects_bad_rate_limit_options(run_cli: RunCli, option: str, value: str) -> None:
    result = run_cli("sandbox", "serve", "--port", "0", option, value)
    assert result.exit_code == 2
    assert option in result.stderr
