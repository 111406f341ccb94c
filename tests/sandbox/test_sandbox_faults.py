"""Fault injection: parsing, reproducibility with a seed, and what each fault does."""

from __future__ import annotations

import httpx
import pytest

from aircall_ext.sandbox.app import SandboxApp
from aircall_ext.sandbox.demo import demo_account
from aircall_ext.sandbox.faults import ConnectionDropped, Fault, FaultInjector, FaultPlan
from aircall_ext.sandbox.ratelimit import RateLimit


def faulty(spec: str, seed: int = 0, **kwargs: object) -> tuple[SandboxApp, httpx.Client]:
    app = SandboxApp(
        demo_account(),
        faults=FaultInjector(FaultPlan.parse(spec), seed=seed),
        **kwargs,  # type: ignore[arg-type]
    )
    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://s")
    return app, http


def test_parse_keeps_the_spec() -> None:
    plan = FaultPlan.parse("500:0.1, 429:0.05,reset:0.02,slow:0.05,503:0.1")
    assert plan.items == (
        ("500", 0.1),
        ("429", 0.05),
        ("reset", 0.02),
        ("slow", 0.05),
        ("503", 0.1),
    )
    assert not FaultPlan.parse("")
    assert not FaultPlan.parse("500:0")


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("500", "'500'"),
        ("oops:0.1", "'oops:0.1'"),
        ("404:0.1", "'404:0.1'"),
        ("500:x", "'500:x'"),
        ("500:1.5", "'500:1.5'"),
        ("500:-0.1", "'500:-0.1'"),
        ("500:0.1,500:0.2", "'500:0.2'"),
        ("500:0.6,429:0.6", "add up to 1.2"),
    ],
)
def test_bad_specs_name_the_bad_item(spec: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        FaultPlan.parse(spec)


def draws(seed: int, n: int = 300) -> list[Fault | None]:
    injector = FaultInjector(FaultPlan.parse("500:0.1,429:0.1,reset:0.1,slow:0.1"), seed=seed)
    return [injector.draw("PUT") for _ in range(n)]


def test_the_same_seed_gives_the_same_faults() -> None:
    assert draws(7) == draws(7)
    assert draws(7) != draws(8)


def test_probabilities_are_honoured() -> None:
    faults = draws(1, 4000)
    share = sum(f is not None and f.status == 500 for f in faults) / len(faults)
    assert 0.08 < share < 0.12
    assert 0.35 < sum(f is not None for f in faults) / len(faults) < 0.45


def test_a_5xx_fault_is_a_json_error_with_the_rate_limit_headers() -> None:
    _app, http = faulty(
        "503:1", rate_limit=RateLimit(100, 60), rate_headers="always", clock=lambda: 30.0
    )
    response = http.get("/v1/company")
    assert response.status_code == 503
    assert set(response.json()) == {"error", "troubleshoot"}
    assert response.headers["x-aircallapi-remaining"] == "99"


def test_an_injected_429_says_when_to_retry() -> None:
    _app, http = faulty("429:1")
    response = http.get("/v2/users")
    assert (response.status_code, response.headers["retry-after"]) == (429, "1")


def test_an_injected_error_on_a_put_writes_nothing() -> None:
    app, http = faulty("500:1")
    assert http.put("/v2/users/481002", json={"extension": "150"}).status_code == 500
    assert _extension(app, 481002) == "102"


def test_slow_delays_through_the_injected_sleep_and_says_what_it_holds_first() -> None:
    events: list[object] = []
    _app, http = faulty("slow:1", sleep=events.append, slow_seconds=2.5, on_slow=events.append)
    assert http.get("/v1/company").status_code == 200
    assert http.put("/v2/users/481002/", json={"extension": "150"}).status_code == 200
    assert events == ["GET /v1/company", 2.5, "PUT /v2/users/481002", 2.5]


def test_reset_on_a_read_drops_the_connection() -> None:
    _app, http = faulty("reset:1")
    with pytest.raises(ConnectionDropped) as caught:
        http.get("/v1/company")
    assert caught.value.phase == "before"


def test_reset_on_a_write_happens_before_or_after_it_is_applied() -> None:
    app, http = faulty("reset:1", seed=3)
    phases: list[str] = []
    for i in range(40):
        extension = f"{150 + i}"
        with pytest.raises(ConnectionDropped) as caught:
            http.put("/v2/users/481002", json={"extension": extension})
        phases.append(caught.value.phase)
        applied = _extension(app, 481002) == extension
        assert applied == (caught.value.phase == "after")
    assert set(phases) == {"before", "after"}


def _extension(app: SandboxApp, user_id: int) -> str | None:
    extension: str | None = next(
        u["extension"] for u in app.document()["users"] if u["id"] == user_id
    )
    return extension
