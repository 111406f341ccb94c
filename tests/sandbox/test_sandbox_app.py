"""The sandbox API (SPEC §3) driven through httpx's WSGI transport: no network, no sleeping."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from aircall_ext.sandbox.app import AppliedWrite, SandboxApp
from aircall_ext.sandbox.demo import demo_account, generate_account
from aircall_ext.sandbox.state import SandboxAccount

BASE = "http://sandbox.test"


def client(app: SandboxApp, **kwargs: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE, **kwargs)


def extension_of(app: SandboxApp, user_id: int) -> str | None:
    extension: str | None = next(
        u["extension"] for u in app.document()["users"] if u["id"] == user_id
    )
    return extension


@pytest.fixture
def writes() -> list[AppliedWrite]:
    return []


@pytest.fixture
def demo(writes: list[AppliedWrite]) -> httpx.Client:
    return client(SandboxApp(demo_account(), on_write=writes.append))


# -- pagination ---------------------------------------------------------------------------


def test_120_users_list_in_3_pages_of_50_by_following_next_links() -> None:
    account = generate_account(120)
    http = client(SandboxApp(account))
    seen: list[int] = []
    counts: list[int] = []
    url: str | None = f"{BASE}/v2/users?per_page=50"
    while url:
        body = http.get(url).raise_for_status().json()
        seen += [u["id"] for u in body["users"]]
        counts.append(body["meta"]["count"])
        url = body["meta"]["next_page_link"]
    assert counts == [50, 50, 20]
    assert seen == sorted(u["id"] for u in account.users())


def test_meta_links_are_absolute_urls_on_the_requests_host() -> None:
    http = client(SandboxApp(generate_account(120)))
    meta = http.get("/v2/users", params={"page": 2, "per_page": 50}).json()["meta"]
    assert meta == {
        "count": 50,
        "total": 120,
        "current_page": 2,
        "per_page": 50,
        "next_page_link": f"{BASE}/v2/users?page=3&per_page=50",
        "previous_page_link": f"{BASE}/v2/users?page=1&per_page=50",
    }
    first = http.get("/v2/users").json()["meta"]
    assert first["previous_page_link"] is None


def test_per_page_defaults_to_20_and_is_clamped_to_50() -> None:
    http = client(SandboxApp(generate_account(120)))
    assert http.get("/v2/users").json()["meta"]["count"] == 20
    clamped = http.get("/v2/users", params={"per_page": 500}).json()["meta"]
    assert (clamped["count"], clamped["per_page"]) == (50, 50)


def test_a_page_past_the_end_is_empty_with_no_next_link() -> None:
    http = client(SandboxApp(generate_account(30)))
    body = http.get("/v2/users", params={"page": 5, "per_page": 50}).json()
    assert body["users"] == []
    assert body["meta"]["next_page_link"] is None


@pytest.mark.parametrize("query", [{"page": "0"}, {"page": "abc"}, {"per_page": "-1"}])
def test_bad_pagination_parameters_are_400_json(demo: httpx.Client, query: dict[str, str]) -> None:
    response = demo.get("/v2/users", params=query)
    assert response.status_code == 400
    assert set(response.json()) == {"error", "troubleshoot"}


def test_listing_stops_at_10000_records() -> None:
    account = generate_account(10_050)
    http = client(SandboxApp(account))
    last = http.get("/v2/users", params={"page": 200, "per_page": 50}).json()
    assert last["meta"]["count"] == 50
    assert last["meta"]["total"] == 10_050  # the real size, so a client can say what it missed
    assert last["meta"]["next_page_link"] is None
    assert last["users"][-1]["id"] == account.users()[9_999]["id"]
    beyond = http.get("/v2/users", params={"page": 201, "per_page": 50})
    assert beyond.status_code == 400
    assert "10000" in beyond.json()["error"]
    # A page straddling the cap is cut at it.
    straddle = http.get("/v2/users", params={"page": 334, "per_page": 30}).json()
    assert (straddle["meta"]["count"], straddle["meta"]["next_page_link"]) == (10, None)


def test_numbers_are_paginated_too() -> None:
    http = client(SandboxApp(generate_account(10, numbers=7)))
    body = http.get("/v1/numbers", params={"per_page": 5}).json()
    assert body["meta"]["count"] == 5
    assert body["meta"]["next_page_link"] == f"{BASE}/v1/numbers?page=2&per_page=5"


# -- reading ------------------------------------------------------------------------------


def test_company_counts_match_the_account(demo: httpx.Client) -> None:
    company = demo.get("/v1/company").json()["company"]
    assert company["users_count"] == len(demo_account().users())
    assert company["numbers_count"] == len(demo_account().numbers())


def test_get_user_and_number_carry_direct_links_on_the_requests_host(demo: httpx.Client) -> None:
    user = demo.get("/v2/users/481011").json()["user"]
    assert (user["extension"], user["direct_link"]) == ("007", f"{BASE}/v2/users/481011")
    number = demo.get("/v1/numbers/912002").json()["number"]
    assert number["direct_link"] == f"{BASE}/v1/numbers/912002"


@pytest.mark.parametrize("path", ["/users/999", "/users/abc", "/numbers/1", "/nope", "/users/1/x"])
def test_unknown_objects_and_paths_are_404_json(demo: httpx.Client, path: str) -> None:
    response = demo.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]


def test_paths_outside_v1_are_404() -> None:
    http = httpx.Client(transport=httpx.WSGITransport(app=SandboxApp(demo_account())))
    assert http.get("http://sandbox.test/users").status_code == 404


def test_wrong_method_is_405_with_allow(demo: httpx.Client) -> None:
    response = demo.delete("/v2/users/481001")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PUT"
    assert demo.post("/v2/users", json={}).status_code == 405


# -- auth ---------------------------------------------------------------------------------


def test_credentials_are_checked_when_configured() -> None:
    app = SandboxApp(demo_account(), credentials=("api-id", "s3cret"))
    good = client(app, auth=("api-id", "s3cret"))
    assert good.get("/v1/company").status_code == 200
    for auth in [None, ("api-id", "wrong"), ("other", "s3cret"), ("api-id", "")]:
        response = client(app, auth=auth).get("/v1/company")
        assert response.status_code == 401, auth
        assert response.headers["www-authenticate"].startswith("Basic")
        assert set(response.json()) == {"error", "troubleshoot"}


@pytest.mark.parametrize("header", ["Bearer abc", "Basic !!!", "Basic " + "YXBpLWlk"])
def test_malformed_authorization_headers_are_401(header: str) -> None:
    app = SandboxApp(demo_account(), credentials=("api-id", "s3cret"))
    assert client(app).get("/v1/company", headers={"Authorization": header}).status_code == 401


def test_a_put_without_credentials_writes_nothing() -> None:
    app = SandboxApp(demo_account(), credentials=("api-id", "s3cret"))
    assert client(app).put("/v2/users/481002", json={"extension": "150"}).status_code == 401
    assert extension_of(app, 481002) == "102"


# -- writing ------------------------------------------------------------------------------


def test_put_changes_the_extension_and_reports_the_write(writes: list[AppliedWrite]) -> None:
    app = SandboxApp(demo_account(), on_write=writes.append, clock=lambda: 1234.5)
    response = client(app).put("/v2/users/481002", json={"extension": "150"})
    assert response.status_code == 200
    assert response.json()["user"]["extension"] == "150"
    assert extension_of(app, 481002) == "150"
    assert [w.as_json() for w in writes] == [
        {"user_id": 481002, "from": "102", "to": "150", "ts": 1234.5}
    ]


def test_put_a_taken_extension_is_422_naming_the_holder(
    demo: httpx.Client, writes: list[AppliedWrite]
) -> None:
    response = demo.put("/v2/users/481002", json={"extension": "101"})
    assert response.status_code == 422
    message = response.json()["error"]
    assert "Amelia Hart" in message and "481001" in message
    assert demo.get("/v2/users/481002").json()["user"]["extension"] == "102"
    assert writes == []


def test_both_holders_of_a_legacy_collision_are_named(demo: httpx.Client) -> None:
    message = demo.put("/v2/users/481001", json={"extension": "104"}).json()["error"]
    assert "481004" in message and "481005" in message


@pytest.mark.parametrize(
    "body",
    [
        {"extension": 101},
        {"extension": 7},
        {"extension": "12"},
        {"extension": "1234"},
        {"extension": " 101"},
        {"extension": "101\n"},
        {"extension": "\u0661\u0660\u0661"},  # Arabic-Indic 101: digits, but not ASCII
        {"extension": "10a"},
        {"extension": None},
        {"extension": ["101"]},
        {"name": "no extension key"},
    ],
)
def test_malformed_extensions_are_422_and_change_nothing(
    demo: httpx.Client, writes: list[AppliedWrite], body: dict[str, Any]
) -> None:
    response = demo.put("/v2/users/481002", json=body)
    assert response.status_code == 422
    assert "three digits" in response.json()["error"]
    assert demo.get("/v2/users/481002").json()["user"]["extension"] == "102"
    assert writes == []


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_400(demo: httpx.Client, content: bytes) -> None:
    assert demo.put("/v2/users/481002", content=content).status_code == 400


def test_putting_the_current_extension_is_an_idempotent_200(
    demo: httpx.Client, writes: list[AppliedWrite]
) -> None:
    for _ in range(2):
        response = demo.put("/v2/users/481011", json={"extension": "007"})
        assert (response.status_code, response.json()["user"]["extension"]) == (200, "007")
    # Even on a legacy collision: re-sending what the user holds is not a new collision.
    assert demo.put("/v2/users/481004", json={"extension": "104"}).status_code == 200
    assert writes == []


def test_put_to_an_unknown_user_is_404(demo: httpx.Client) -> None:
    assert demo.put("/v2/users/999999", json={"extension": "150"}).status_code == 404
    assert demo.put("/v2/users/abc", json={"extension": "150"}).status_code == 404


def test_a_user_can_take_an_extension_freed_by_a_move(demo: httpx.Client) -> None:
    assert demo.put("/v2/users/481001", json={"extension": "199"}).status_code == 200
    assert demo.put("/v2/users/481002", json={"extension": "101"}).status_code == 200


def test_the_write_hook_runs_after_the_commit_and_its_failure_propagates() -> None:
    def fail(_write: AppliedWrite) -> None:
        raise OSError("disk full")

    app = SandboxApp(demo_account(), on_write=fail)
    with pytest.raises(OSError, match="disk full"):
        client(app).put("/v2/users/481002", json={"extension": "150"})
    assert extension_of(app, 481002) == "150"  # committed first: the hook only logs it


# -- consistency --------------------------------------------------------------------------


@pytest.mark.parametrize("account", [demo_account(), generate_account(40, seed=3, numbers=5)])
def test_user_numbers_and_number_users_agree(account: SandboxAccount) -> None:
    http = client(SandboxApp(account))
    users = http.get("/v2/users", params={"per_page": 50}).json()["users"]
    numbers = http.get("/v1/numbers", params={"per_page": 50}).json()["numbers"]
    from_numbers = {(n["id"], u["id"]) for n in numbers for u in n["users"]}
    from_users = {(n["id"], u["id"]) for u in users for n in u["numbers"]}
    assert from_numbers == from_users
    assert from_numbers  # the check means something
