"""The client against responses in the live API's shapes (users on /v2, numbers on /v1).

The fixtures in tests/fixtures/live are written from the live field lists: every field a
user or number may carry, fields absent, null or of an unexpected type, v2 pages without
``next_page_link``, number listings without ``users`` or ``flow_editor_enabled``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from aircall_ext.api.client import ApiClient
from aircall_ext.api.models import Number, User
from aircall_ext.errors import ApiError, ConfigError
from tests.conftest import RunCli

BASE = "https://api.live.test"
LIVE = Path(__file__).parent.parent / "fixtures" / "live"


def fixture(name: str) -> Any:
    return json.loads((LIVE / name).read_text(encoding="utf-8"))


def client(warnings: list[str] | None = None) -> ApiClient:
    return ApiClient(
        BASE,
        "id",
        "token",
        sleep=lambda _s: None,
        warn=warnings.append if warnings is not None else None,
    )


def v2_user(user_id: int, extension: str | None) -> dict[str, Any]:
    """A v2 listing item: the live field set, no ``outgoing_only``, no ``numbers``."""
    user = dict(fixture("users_page_v2.json")["users"][0])
    user.update(id=user_id, email=f"user{user_id}@example.com", extension=extension)
    return user


def v2_pages(users: list[dict[str, Any]]) -> Any:
    """A respx side effect serving ``users`` as /v2/users does: meta without links."""

    def answer(request: httpx.Request) -> httpx.Response:
        page, per_page = int(request.url.params["page"]), int(request.url.params["per_page"])
        chunk = users[(page - 1) * per_page : page * per_page]
        meta = {"count": len(chunk), "total": len(users), "current_page": page}
        return httpx.Response(200, json={"users": chunk, "meta": meta})

    return answer


# -- reading the shapes -------------------------------------------------------------------


@respx.mock
def test_a_user_with_every_live_field_and_extras_is_read() -> None:
    respx.get(f"{BASE}/v2/users/1209384").respond(json=fixture("user_full.json"))
    user = client().get_user(1209384)
    assert (user.extension, user.availability_status, user.is_unavailable) == (
        "001",
        "custom",
        False,
    )
    assert user.outgoing_only is None  # the live API does not send this tool's field
    assert (user.default_number_id, user.time_zone) == (884201, "Europe/Paris")


@respx.mock
def test_absent_null_and_integer_extensions_in_a_v2_page() -> None:
    route = respx.get(f"{BASE}/v2/users").respond(json=fixture("users_page_v2.json"))
    users = {u.id: u for u in client().list_users()}
    assert route.call_count == 1  # meta.total reached: no second request
    assert users[1209385].extension is None  # key absent
    assert users[1209386].extension is None  # null
    assert users[1209387].extension == "7"  # a number: read as damaged text, flagged later
    assert users[1209385].is_unavailable  # available: false (working hours)
    assert users[1209386].is_unavailable and users[1209386].name is None


@respx.mock
def test_number_listing_without_users_or_flags_never_breaks_and_says_what_is_assumed() -> None:
    respx.get(f"{BASE}/v1/numbers").respond(json=fixture("numbers_page_v1.json"))
    numbers = {n.id: n for n in client().list_numbers()}
    assert all(n.users is None for n in numbers.values())
    assert (numbers[884201].routing, numbers[884201].routing_assumed) == ("smartflows", True)
    assert (numbers[884202].routing, numbers[884202].routing_assumed) == ("legacy-classic", True)
    assert (numbers[884203].routing, numbers[884203].routing_assumed) == ("smartflows", True)
    assert "is_ivr" in (numbers[884202].routing_assumption or "")


@respx.mock
def test_a_number_detail_nests_full_users() -> None:
    respx.get(f"{BASE}/v1/numbers/884201").respond(json=fixture("number_detail_v1.json"))
    number = client().get_number(884201)
    assert (number.routing, number.routing_assumed) == ("smartflows", False)
    assert [(u.id, u.extension) for u in number.distribution] == [(1209384, "001")]


def test_known_routing_flags_are_not_assumed() -> None:
    legacy_ivr = Number(id=1, flow_editor_enabled=False, is_ivr=True)
    assert (legacy_ivr.routing, legacy_ivr.routing_assumed) == ("legacy-ivr", False)
    assert Number(id=2, flow_editor_enabled=True, is_ivr=None).routing_assumption is None


# -- paging -------------------------------------------------------------------------------


@respx.mock
def test_123_users_on_v2_pages_without_next_page_link_are_read_whole() -> None:
    users = [v2_user(i, f"{i % 1000:03d}") for i in range(1, 124)]
    route = respx.get(f"{BASE}/v2/users").mock(side_effect=v2_pages(users))
    assert [u.id for u in client().list_users()] == list(range(1, 124))
    assert [r.request.url.params["page"] for r in route.calls] == ["1", "2", "3"]


@pytest.mark.parametrize(("count", "requests"), [(0, 1), (60, 2), (100, 3)])
@respx.mock
def test_without_meta_a_full_page_means_read_on(count: int, requests: int) -> None:
    users = [v2_user(i, None) for i in range(1, count + 1)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={"users": users[(page - 1) * 50 : page * 50]})

    route = respx.get(f"{BASE}/v2/users").mock(side_effect=answer)
    assert len(client().list_users()) == count
    assert route.call_count == requests


@respx.mock
def test_next_page_link_sent_as_null_ends_the_listing() -> None:
    users = [v2_user(i, None) for i in range(1, 51)]
    meta = {"count": 50, "current_page": 1, "next_page_link": None}
    route = respx.get(f"{BASE}/v2/users").respond(json={"users": users, "meta": meta})
    assert len(client().list_users()) == 50
    assert route.call_count == 1


@respx.mock
def test_a_server_that_repeats_a_page_is_an_error_not_an_endless_loop() -> None:
    page = {"users": [v2_user(i, None) for i in range(1, 51)], "meta": {"total": 500}}
    route = respx.get(f"{BASE}/v2/users").respond(json=page)
    with pytest.raises(ApiError, match="page 2 repeats records already read"):
        client().list_users()
    assert route.call_count == 2


@respx.mock
def test_a_listing_that_ends_short_of_its_total_says_so() -> None:
    users = [v2_user(i, None) for i in range(1, 51)]
    answers = iter(
        [
            httpx.Response(200, json={"users": users, "meta": {"total": 70}}),
            httpx.Response(200, json={"users": [], "meta": {"total": 70}}),
        ]
    )
    respx.get(f"{BASE}/v2/users").mock(side_effect=lambda _r: next(answers))
    warnings: list[str] = []
    assert len(client(warnings).list_users()) == 50
    assert warnings == [
        "the API listed 50 users but reported 70: results may be incomplete (records may have "
        "been removed while paging); run it again"
    ]


@respx.mock
def test_a_server_that_pages_by_20_is_read_on_by_its_total() -> None:
    users = [v2_user(i, None) for i in range(1, 46)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        chunk = users[(page - 1) * 20 : page * 20]  # ignores per_page=50
        return httpx.Response(200, json={"users": chunk, "meta": {"total": 45}})

    route = respx.get(f"{BASE}/v2/users").mock(side_effect=answer)
    assert len(client().list_users()) == 45
    assert route.call_count == 3


# -- errors -------------------------------------------------------------------------------


@respx.mock
def test_403_for_bad_credentials_is_a_configuration_error() -> None:
    respx.get(f"{BASE}/v1/company").respond(403, json=fixture("forbidden.json"))
    with pytest.raises(ConfigError, match=r"HTTP 403.*Check your API ID") as caught:
        client().get_company()
    assert caught.value.exit_code == 3


@pytest.mark.parametrize("url", [BASE, f"{BASE}/", f"{BASE}/v1", f"{BASE}/v2/", f"{BASE}/v1/"])
@respx.mock
def test_a_base_url_ending_in_a_version_names_the_api_root(url: str) -> None:
    route = respx.get(f"{BASE}/v2/users").respond(json={"users": [], "meta": {"total": 0}})
    ApiClient(url, "id", "token").list_users()
    assert route.called


# -- every command over the live shapes ---------------------------------------------------


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> respx.MockRouter:
    """Credentials in the environment and an account served in the live shapes."""
    monkeypatch.setenv("AIRCALL_API_ID", "live-id")
    monkeypatch.setenv("AIRCALL_API_TOKEN", "live-token")
    monkeypatch.setenv("AIRCALL_BASE_URL", BASE)
    quiet = functools.partial(ApiClient, sleep=lambda _s: None)
    monkeypatch.setattr("aircall_ext.services.session.ApiClient", quiet)
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        users = fixture("users_page_v2.json")["users"]
        mock.get("/v2/users").mock(side_effect=v2_pages(users))
        mock.get("/v1/numbers").respond(json=fixture("numbers_page_v1.json"))
        detail = fixture("number_detail_v1.json")
        mock.get("/v1/numbers/884201").respond(json=detail)
        for other in (884202, 884203):
            number = next(n for n in fixture("numbers_page_v1.json")["numbers"] if n["id"] == other)
            mock.get(f"/v1/numbers/{other}").respond(json={"number": {**number, "users": []}})
        yield mock


def test_validate_reads_a_123_user_account_whose_collision_spans_pages_1_and_3(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRCALL_API_ID", "live-id")
    monkeypatch.setenv("AIRCALL_API_TOKEN", "live-token")
    monkeypatch.setenv("AIRCALL_BASE_URL", BASE)
    users = [v2_user(i, f"{i:03d}") for i in range(1, 124)]
    users[110]["extension"] = "007"  # user 111, on page 3, collides with user 7 on page 1
    with respx.mock(base_url=BASE) as mock:
        route = mock.get("/v2/users").mock(side_effect=v2_pages(users))
        result = run_cli("-o", "json", "validate")
    assert result.exit_code == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    dup = [(f["user_id"], f["extension"]) for f in findings if f["code"] == "duplicate-extension"]
    assert dup == [(7, "007"), (111, "007")]
    assert [f["code"] for f in findings if f["severity"] == "info"] == ["outgoing-only-unknown"]
    assert route.call_count == 3


def test_list_and_show_read_live_users(run_cli: RunCli, live: respx.MockRouter) -> None:
    listed = run_cli("-o", "json", "list")
    assert listed.exit_code == 0, listed.stderr
    users = {u["id"]: u for u in json.loads(listed.stdout)["users"]}
    assert users[1209387]["extension"] == "7"
    assert users[1209384]["outgoing_only"] is None  # unknown, never a silent "no"
    table = run_cli("list")
    assert "unknown" in table.stdout
    shown = run_cli("show", "madeleine.dupont@example.com")
    assert shown.exit_code == 0 and "Europe/Paris" in shown.stdout


def test_numbers_reads_each_incomplete_number_once(run_cli: RunCli, live: respx.MockRouter) -> None:
    result = run_cli("-o", "json", "numbers")
    assert result.exit_code == 0, result.stderr
    docs = {n["id"]: n for n in json.loads(result.stdout)["numbers"]}
    assert docs[884201] == {
        "id": 884201,
        "name": "Support FR",
        "digits": "+33 1 76 36 06 95",
        "routing": "smartflows",
        "routing_assumed": False,
        "distribution_size": 1,
    }
    assert docs[884202]["routing_assumed"] and docs[884202]["routing"] == "legacy-classic"
    details = [c.request.url.path for c in live.calls if c.request.url.path.count("/") == 3]
    assert sorted(details) == [f"/v1/numbers/{i}" for i in (884201, 884202, 884203)]
    assert "number 884203: routing assumed" in result.stderr
    assert "(assumed)" in run_cli("numbers").stdout


def test_dial_reads_the_dialed_numbers_distribution(
    run_cli: RunCli, live: respx.MockRouter
) -> None:
    result = run_cli("-o", "json", "dial", "Support FR", "001", "--stage", "ivr")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["outcome"] == "rings-user" and doc["routing_assumed"] is False
    assert doc["missed_call_notified"][0]["id"] == 1209384
    outgoing = next(c for c in doc["trace"] if c["check"] == "outgoing-only")
    assert "does not report" in outgoing["detail"]
    details = [c.request.url.path for c in live.calls if c.request.url.path.count("/") == 3]
    assert details == ["/v1/numbers/884201"]


def test_dial_trace_says_when_routing_is_assumed(run_cli: RunCli, live: respx.MockRouter) -> None:
    result = run_cli("-o", "json", "dial", "Sales UK", "001", "--stage", "ivr")
    doc = json.loads(result.stdout)
    assert doc["routing_assumed"] is True
    stage = next(c for c in doc["trace"] if c["check"] == "stage")
    assert stage["detail"].startswith("Routing assumed: the API did not say whether Smartflows")


def test_us_national_digits_name_a_us_number(run_cli: RunCli, live: respx.MockRouter) -> None:
    result = run_cli("-o", "json", "dial", "415 555 0142", "001", "--stage", "welcome")
    assert json.loads(result.stdout)["number"]["id"] == 884202


def test_export_and_diff_over_live_users(
    run_cli: RunCli, live: respx.MockRouter, tmp_path: Path
) -> None:
    exported = run_cli("export")
    assert exported.exit_code == 0, exported.stderr
    lines = exported.stdout.splitlines()
    assert lines[0] == "user_id,email,name,extension"
    assert "1209384,madeleine.dupont@example.com,Madeleine Dupont,001" in lines
    desired = tmp_path / "desired.csv"
    desired.write_text("user_id,extension\n1209384,001\n", encoding="utf-8")
    assert run_cli("diff", str(desired)).exit_code == 0


def test_a_user_model_ignores_the_v1_numbers_field() -> None:
    user = User.model_validate({"id": 1, "numbers": [{"id": 2}], "extension": "101"})
    assert user.extension == "101" and not hasattr(user, "numbers")
