"""Server-side rate limiting with an injected clock: exact windows, headers on every response."""

from __future__ import annotations

import httpx
import pytest

from aircall_ext.sandbox.app import SandboxApp
from aircall_ext.sandbox.demo import demo_account
from aircall_ext.sandbox.ratelimit import FixedWindowLimiter, RateLimit, format_reset

HEADERS = ("x-aircallapi-limit", "x-aircallapi-remaining", "x-aircallapi-reset")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limited(requests: int, seconds: float, clock: Clock, **kwargs: object) -> httpx.Client:
    app = SandboxApp(
        demo_account(),
        credentials=("id", "token"),
        rate_limit=RateLimit(requests, seconds),
        clock=clock,
        **kwargs,  # type: ignore[arg-type]
    )
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url="http://sandbox.test",
        auth=("id", "token"),
    )


def test_windows_are_aligned_on_the_clock() -> None:
    clock = Clock(120.5)
    limiter = FixedWindowLimiter(RateLimit(3, 60), clock)
    decisions = [limiter.hit() for _ in range(4)]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert {d.reset_at for d in decisions} == {180}
    assert decisions[-1].retry_after == 60  # ceil(180 - 120.5)
    clock.now = 180.0  # the announced reset: a fresh budget, exactly then
    fresh = limiter.hit()
    assert (fresh.allowed, fresh.remaining, fresh.reset_at) == (True, 2, 240)


def test_retry_after_is_a_whole_number_of_seconds_rounded_up() -> None:
    clock = Clock(179.2)
    limiter = FixedWindowLimiter(RateLimit(1, 60), clock)
    limiter.hit()
    assert limiter.hit().retry_after == 1


def test_every_response_carries_the_headers_errors_included() -> None:
    clock = Clock(1_700_000_010.0)
    http = limited(10, 60, clock)
    responses = [
        http.get("/v1/company"),
        http.get("/v2/users/999"),
        http.put("/v2/users/481002", json={"extension": "101"}),
        http.get("/v1/company", auth=("id", "wrong")),
        http.get("/nope"),
    ]
    assert [r.status_code for r in responses] == [200, 404, 422, 403, 404]
    for response in responses:
        assert all(name in response.headers for name in HEADERS), response.status_code
    assert [r.headers["x-aircallapi-remaining"] for r in responses] == ["9", "8", "7", "6", "5"]
    assert {r.headers["x-aircallapi-reset"] for r in responses} == {"1700000040"}
    assert {r.headers["x-aircallapi-limit"] for r in responses} == {"10"}


def test_over_the_limit_is_429_with_retry_after_until_the_window_ends() -> None:
    clock = Clock(1_700_000_010.0)
    http = limited(2, 60, clock)
    assert [http.get("/v1/company").status_code for _ in range(2)] == [200, 200]
    refused = http.get("/v1/company")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"
    assert refused.headers["x-aircallapi-remaining"] == "0"
    assert refused.json()["error"] == "Too Many Requests"
    clock.now = 1_700_000_040.0
    assert http.get("/v1/company").status_code == 200


def test_refused_requests_do_not_write() -> None:
    clock = Clock(0.5)
    app = SandboxApp(demo_account(), rate_limit=RateLimit(1, 10), clock=clock)
    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://s")
    http.get("/v1/company")
    assert http.put("/v2/users/481002", json={"extension": "150"}).status_code == 429
    assert next(u for u in app.document()["users"] if u["id"] == 481002)["extension"] == "102"


def test_reset_can_be_sent_in_milliseconds() -> None:
    http = limited(5, 60, Clock(1_700_000_010.0), reset_unit="ms")
    assert http.get("/v1/company").headers["x-aircallapi-reset"] == "1700000040000"


def test_fractional_windows_announce_a_fractional_reset() -> None:
    assert format_reset(10.5, "s") == "10.5"
    assert format_reset(10.0, "s") == "10"
    http = limited(5, 0.5, Clock(100.2))
    assert http.get("/v1/company").headers["x-aircallapi-reset"] == "100.5"


def test_no_rate_limit_means_no_headers() -> None:
    app = SandboxApp(demo_account())
    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://s")
    headers = http.get("/v1/company").headers
    assert not any(name in headers for name in HEADERS)


@pytest.mark.parametrize(("text", "expected"), [("60/60", (60, 60.0)), (" 5 / 0.5 ", (5, 0.5))])
def test_parse_rate_limit(text: str, expected: tuple[int, float]) -> None:
    limit = RateLimit.parse(text)
    assert (limit.requests, limit.seconds) == expected


@pytest.mark.parametrize("text", ["60", "0/60", "5/0", "a/b", "-1/60", "5/60/1", ""])
def test_bad_rate_limits_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match=r"N/SECONDS|positive"):
        RateLimit.parse(text)
