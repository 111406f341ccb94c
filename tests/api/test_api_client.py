"""The HTTP edge cases of the one client, against respx (no network, no real waiting)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from aircall_ext.api.client import LISTING_CAP, ApiClient, check_base_url
from aircall_ext.errors import ApiError, ConfigError, NotFound, Remedy, Unprocessable

BASE = "https://api.test"
TOKEN = "tok-SECRET-0123456789"


class FakeTime:
    """A clock that only moves when the client sleeps."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(
    fake: FakeTime, *, log: list[str] | None = None, warn: list[str] | None = None
) -> ApiClient:
    return ApiClient(
        BASE,
        "api-id",
        TOKEN,
        sleep=fake.sleep,
        clock=fake.clock,
        random=lambda: 0.5,
        log=log.append if log is not None else None,
        warn=warn.append if warn is not None else None,
        log_headers=True,
    )


def user(i: int, ext: str | None = None) -> dict[str, Any]:
    return {"id": i, "name": f"User {i}", "email": f"u{i}@example.com", "extension": ext}


def users_page(ids: range, page: int, per_page: int, total: int, *, last: bool) -> dict[str, Any]:
    return {
        "users": [user(i, f"{i % 1000:03d}") for i in ids],
        "meta": {
            "count": len(ids),
            "total": total,
            "current_page": page,
            "per_page": per_page,
            "next_page_link": None if last else f"{BASE}/v2/users?page={page + 1}&per_page=50",
            "previous_page_link": None,
        },
    }


COMPANY = {"company": {"name": "Acme", "users_count": 3, "numbers_count": 1}}


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@respx.mock
def test_listing_of_120_users_takes_three_pages_of_50(fake: FakeTime) -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        assert request.url.params["per_page"] == "50"
        start = (page - 1) * 50
        ids = range(start + 1, min(start + 50, 120) + 1)
        return httpx.Response(200, json=users_page(ids, page, 50, 120, last=page == 3))

    route = respx.get(f"{BASE}/v2/users").mock(side_effect=pages)
    users = make_client(fake).list_users()
    assert [u.id for u in users] == list(range(1, 121))
    assert route.call_count == 3
    assert users.items[6].extension == "007"
    assert users.incomplete is None


@respx.mock
def test_listing_stops_at_the_cap_and_says_so_in_its_result_not_on_stderr(fake: FakeTime) -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        ids = range((page - 1) * 50, page * 50)
        return httpx.Response(200, json=users_page(ids, page, 50, 12_345, last=False))

    route = respx.get(f"{BASE}/v2/users").mock(side_effect=pages)
    warnings: list[str] = []
    users = make_client(fake, warn=warnings).list_users()
    assert len(users) == LISTING_CAP
    assert route.call_count == LISTING_CAP // 50
    assert users.capped and warnings == []
    assert users.incomplete == (
        "the API lists at most 10,000 users, and this account has more (12,345)"
    )


@respx.mock
def test_429_waits_for_retry_after_then_succeeds(fake: FakeTime) -> None:
    route = respx.get(f"{BASE}/v1/company").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}, json={"error": "Too many"}),
            httpx.Response(200, json=COMPANY),
        ]
    )
    assert make_client(fake).get_company().name == "Acme"
    assert route.call_count == 2
    assert fake.sleeps == [7.0]


@respx.mock
def test_429_without_retry_after_waits_until_reset_in_seconds(fake: FakeTime) -> None:
    reset = int(fake.now) + 12
    headers = {
        "X-AircallApi-Limit": "60",
        "X-AircallApi-Remaining": "0",
        "X-AircallApi-Reset": str(reset),
    }
    respx.get(f"{BASE}/v1/company").mock(
        side_effect=[httpx.Response(429, headers=headers), httpx.Response(200, json=COMPANY)]
    )
    make_client(fake).get_company()
    assert len(fake.sleeps) == 1
    assert fake.sleeps[0] == pytest.approx(12.05, abs=0.01)


@respx.mock
def test_reset_header_in_milliseconds_is_understood(fake: FakeTime) -> None:
    reset_ms = int((fake.now + 5) * 1000)
    headers = {
        "X-AircallApi-Limit": "60",
        "X-AircallApi-Remaining": "0",
        "X-AircallApi-Reset": str(reset_ms),
    }
    respx.get(f"{BASE}/v1/company").mock(
        return_value=httpx.Response(200, json=COMPANY, headers=headers)
    )
    client = make_client(fake)
    client.get_company()
    assert fake.sleeps == []  # nothing to wait for yet
    client.get_company()  # the budget is spent: wait for the reset, about 5 s, not 5,000 s
    assert fake.sleeps == [pytest.approx(5.05, abs=0.01)]


@respx.mock
def test_503_is_retried_with_backoff_then_succeeds(fake: FakeTime) -> None:
    route = respx.get(f"{BASE}/v1/company").mock(
        side_effect=[httpx.Response(503), httpx.Response(502), httpx.Response(200, json=COMPANY)]
    )
    assert make_client(fake).get_company().name == "Acme"
    assert route.call_count == 3
    # random() = 0.5: three quarters of the capped exponential ceiling (0.5 s, then 1 s).
    assert fake.sleeps == [pytest.approx(0.375), pytest.approx(0.75)]


@respx.mock
def test_persistent_5xx_gives_up_as_an_api_error(fake: FakeTime) -> None:
    route = respx.get(f"{BASE}/v1/company").mock(
        return_value=httpx.Response(500, json={"error": "boom", "troubleshoot": "later"})
    )
    with pytest.raises(ApiError) as caught:
        make_client(fake).get_company()
    assert caught.value.exit_code == 4
    assert "HTTP 500" in str(caught.value) and "boom" in str(caught.value)
    assert route.call_count == 5


@respx.mock
def test_timeout_then_success(fake: FakeTime) -> None:
    route = respx.get(f"{BASE}/v1/company").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=COMPANY)]
    )
    assert make_client(fake).get_company().name == "Acme"
    assert route.call_count == 2


@respx.mock
def test_a_server_that_never_answers_gets_two_tries_and_a_notice(fake: FakeTime) -> None:
    route = respx.get(f"{BASE}/v1/company").mock(side_effect=httpx.ReadTimeout("silence"))
    warnings: list[str] = []
    fired: list[float] = []

    def start_timer(seconds: float, action: Any) -> Any:
        fired.append(seconds)
        action()  # as if the answer were still awaited after ``seconds``
        return type("Done", (), {"cancel": lambda self: None})()

    client = ApiClient(
        BASE, "id", TOKEN, sleep=fake.sleep, clock=fake.clock, random=lambda: 0.5,
        warn=warnings.append, start_timer=start_timer,
    )  # fmt: skip
    with pytest.raises(ApiError, match="timed out") as caught:
        client.get_company()
    assert caught.value.exit_code == 4
    assert route.call_count == 2
    assert fired == [5.0, 5.0]
    assert warnings == [
        "still waiting for the API to answer GET /v1/company (giving up after 30 s)",
        "GET /v1/company: timed out (ReadTimeout); trying once more",
        "still waiting for the API to answer GET /v1/company (giving up after 30 s)",
    ]


@respx.mock
def test_retry_after_beyond_the_cap_fails_instead_of_sleeping_for_days(fake: FakeTime) -> None:
    respx.get(f"{BASE}/v1/company").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "864000"}, json={})
    )
    with pytest.raises(ApiError, match=r"asked to wait 864,000 s, more than the 300 s") as caught:
        make_client(fake).get_company()
    assert caught.value.exit_code == 4
    assert fake.sleeps == []


@respx.mock
def test_a_retry_after_too_long_for_a_float_fails_the_same_way(fake: FakeTime) -> None:
    respx.get(f"{BASE}/v1/company").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "9" * 400}, json={})
    )
    with pytest.raises(ApiError, match=r"asked to wait 1,000,000,000 s, more than the 300 s"):
        make_client(fake).get_company()
    assert fake.sleeps == []


@respx.mock
def test_unreachable_host_is_exit_4_after_retries(fake: FakeTime) -> None:
    route = respx.get(f"{BASE}/v1/company").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(ApiError) as caught:
        make_client(fake).get_company()
    assert caught.value.exit_code == 4
    assert route.call_count == 5
    assert "refused" in str(caught.value)


@respx.mock
def test_put_is_retried_after_a_dropped_connection(fake: FakeTime) -> None:
    route = respx.put(f"{BASE}/v2/users/5").mock(
        side_effect=[
            httpx.RemoteProtocolError("Server disconnected"),
            httpx.Response(200, json={"user": user(5, "205")}),
        ]
    )
    assert make_client(fake).set_extension(5, "205").extension == "205"
    assert route.call_count == 2
    assert json.loads(route.calls[1].request.content) == {"extension": "205"}


@respx.mock
def test_bad_json_is_an_unexpected_response(fake: FakeTime) -> None:
    respx.get(f"{BASE}/v1/company").mock(return_value=httpx.Response(200, text="<html>oops"))
    with pytest.raises(ApiError, match="not JSON") as caught:
        make_client(fake).get_company()
    assert caught.value.exit_code == 4


@respx.mock
def test_wrong_types_name_the_field(fake: FakeTime) -> None:
    body = {"users": [{"id": "abc"}], "meta": {}}
    respx.get(f"{BASE}/v2/users").mock(return_value=httpx.Response(200, json=body))
    with pytest.raises(ApiError, match=r"users\.0\.id"):
        make_client(fake).list_users()


@respx.mock
def test_unknown_fields_are_ignored_and_numeric_extensions_kept_as_text(fake: FakeTime) -> None:
    body = {"user": {**user(1), "extension": 7, "brand_new_field": {"x": 1}}}
    respx.get(f"{BASE}/v2/users/1").mock(return_value=httpx.Response(200, json=body))
    assert make_client(fake).get_user(1).extension == "7"


@respx.mock
@pytest.mark.parametrize("status", [401, 403])
def test_bad_credentials_are_exit_3_and_not_retried(fake: FakeTime, status: int) -> None:
    route = respx.get(f"{BASE}/v1/company").mock(
        return_value=httpx.Response(status, json={"error": "Unauthorized"})
    )
    with pytest.raises(ConfigError) as caught:
        make_client(fake).get_company()
    assert caught.value.exit_code == 3
    assert route.call_count == 1
    assert TOKEN not in str(caught.value)


@respx.mock
def test_404_and_422_carry_the_api_text_and_are_not_retried(fake: FakeTime) -> None:
    respx.get(f"{BASE}/v2/users/9").mock(
        return_value=httpx.Response(404, json={"error": "Not found", "troubleshoot": "Check id"})
    )
    put = respx.put(f"{BASE}/v2/users/1").mock(
        return_value=httpx.Response(422, json={"message": "Extension 101 is taken"})
    )
    client = make_client(fake)
    with pytest.raises(NotFound, match="Not found: Check id"):
        client.get_user(9)
    with pytest.raises(Unprocessable, match="Extension 101 is taken") as caught:
        client.set_extension(1, "101")
    assert caught.value.exit_code == 1
    assert put.call_count == 1


@pytest.mark.parametrize(
    ("status", "path"), [(404, "/v2/users"), (404, "/v1/company"), (410, "/v2/users")]
)
@respx.mock
def test_a_missing_endpoint_is_an_api_error_naming_the_base_url(
    fake: FakeTime, status: int, path: str
) -> None:
    body = {"error": "Gone.", "troubleshoot": "Use /v2/users instead."}
    respx.get(f"{BASE}{path}").mock(return_value=httpx.Response(status, json=body))
    client = make_client(fake)
    with pytest.raises(ApiError) as caught:
        client.list_users() if "users" in path else client.get_company()
    assert not isinstance(caught.value, NotFound)
    assert caught.value.exit_code == 4
    assert "no such endpoint" in caught.value.message
    assert "Gone: Use /v2/users instead" in caught.value.message
    assert caught.value.hint is not None and "base URL" in caught.value.hint


@respx.mock
def test_a_404_page_from_a_wrong_url_on_a_lookup_is_not_an_unknown_user(fake: FakeTime) -> None:
    respx.get(f"{BASE}/v2/users/9").mock(
        return_value=httpx.Response(404, text="<html><h1>404 Not Found</h1></html>")
    )
    with pytest.raises(ApiError) as caught:
        make_client(fake).get_user(9)
    assert not isinstance(caught.value, NotFound) and caught.value.exit_code == 4
    assert caught.value.hint is not None and "base URL" in caught.value.hint


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (  # the live 400 shape: the sentence is in errors; the rest are status words
            {"error": "Bad Request", "data": None, "message": "BAD_REQUEST",
             "errors": "Extension taken.", "troubleshoot": "BAD_REQUEST", "success": False},
            "Extension taken",
        ),
        ({"message": "Forbidden"}, "Forbidden"),  # a status word alone is still said
        ({"error": "Not found", "troubleshoot": "Check id"}, "Not found: Check id"),
        ({"message": "Extension 101 is taken"}, "Extension 101 is taken"),
        ({"error": "Bad Request", "message": "The extension is malformed."},
         "The extension is malformed"),
        ({"errors": {"extension": ["is taken", "is reserved"]}, "message": "BAD_REQUEST"},
         "extension: is taken; is reserved"),
        ({"errors": [{"message": "no\nnewlines  here"}]}, "message: no newlines here"),
        ({"errors": None, "message": None, "error": 7}, "Bad Request"),  # the reason phrase
        ([1, 2], "Bad Request"),
    ],
)  # fmt: skip
@respx.mock
def test_a_refusal_shows_the_apis_sentence_never_a_chain_of_status_words(
    fake: FakeTime, body: Any, shown: str
) -> None:
    respx.put(f"{BASE}/v2/users/1").respond(400, json=body)
    with pytest.raises(Unprocessable) as caught:
        make_client(fake).set_extension(1, "101")
    assert caught.value.reason == shown
    assert caught.value.message == f"the API refused PUT /v2/users/1 (HTTP 400): {shown}"


@respx.mock
def test_a_refused_credentials_hint_suggests_logging_in_as_a_remedy(fake: FakeTime) -> None:
    """The client does not know the run's profile: it names the command as data, and
    whoever prints the hint writes it with the run's global options."""
    respx.get(f"{BASE}/v1/company").respond(403, json={"message": "Forbidden"})
    with pytest.raises(ConfigError) as caught:
        make_client(fake).get_company()
    assert Remedy("auth", "login") in caught.value.hint_parts
    assert (
        caught.value.hint
        == "check AIRCALL_API_ID/AIRCALL_API_TOKEN or run `aircall-ext auth login`"
    )
    caught.value.write_command = lambda remedy: " ".join(["ace", "--profile", "w", *remedy.words])
    assert (
        caught.value.hint
        == "check AIRCALL_API_ID/AIRCALL_API_TOKEN or run `ace --profile w auth login`"
    )


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/v2/users/42", NotFound),
        ("/v2/users/ann%40example.com", NotFound),
        ("/v2/users/42/numbers", NotFound),
        ("/v1/teams/7", NotFound),
        ("/v1/teams", ApiError),  # the endpoint is missing, not a record
    ],
)
@respx.mock
def test_a_404_names_the_missing_record_or_the_missing_endpoint(
    fake: FakeTime, path: str, error: type[ApiError]
) -> None:
    respx.get(f"{BASE}{path}").respond(404, json={"message": "Not Found"})
    client = make_client(fake)
    calls = {
        "/v2/users/42": lambda: client.get_user(42),
        "/v2/users/ann%40example.com": lambda: client.get_user_by_email("ann@example.com"),
        "/v2/users/42/numbers": lambda: client.list_user_numbers(42),
        "/v1/teams/7": lambda: client.get_team(7),
        "/v1/teams": lambda: client.list_teams(),
    }
    with pytest.raises(ApiError) as caught:
        calls[path]()
    assert type(caught.value) is error


@respx.mock
def test_other_4xx_are_not_retried(fake: FakeTime) -> None:
    route = respx.get(f"{BASE}/v1/company").mock(return_value=httpx.Response(400, text="bad"))
    with pytest.raises(ApiError, match="HTTP 400"):
        make_client(fake).get_company()
    assert route.call_count == 1


def test_plain_http_is_refused_except_for_loopback() -> None:
    with pytest.raises(ConfigError, match=r"refusing plain http:// to api\.example\.com"):
        check_base_url("http://api.example.com/v1")
    for url in ("http://127.0.0.1:8080/v1", "http://localhost/v1", "http://[::1]:9/v1"):
        assert check_base_url(url).scheme == "http"
    with pytest.raises(ConfigError, match="invalid base URL"):
        check_base_url("ftp://x/v1")


@respx.mock
def test_verbose_logs_never_contain_the_token(fake: FakeTime) -> None:
    respx.get(f"{BASE}/v1/company").mock(return_value=httpx.Response(200, json=COMPANY))
    lines: list[str] = []
    make_client(fake, log=lines).get_company()
    text = "\n".join(lines)
    assert "authorization: <redacted>" in text.lower()
    assert TOKEN not in text
    assert "Basic " not in text
