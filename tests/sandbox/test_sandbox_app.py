"""The sandbox API driven through httpx's WSGI transport: no network, no sleeping."""

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


def test_123_users_list_in_3_pages_of_50_without_links() -> None:
    account = generate_account(123)
    http = client(SandboxApp(account))
    pages = [
        http.get("/v2/users", params={"page": page, "per_page": 50}).raise_for_status().json()
        for page in (1, 2, 3)
    ]
    assert [p["meta"] for p in pages] == [
        {"count": 50, "total": 123, "current_page": 1},
        {"count": 50, "total": 123, "current_page": 2},
        {"count": 23, "total": 123, "current_page": 3},
    ]
    assert [u["id"] for p in pages for u in p["users"]] == [u["id"] for u in account.users()]


def test_v1_meta_links_are_absolute_urls_on_the_requests_host() -> None:
    http = client(SandboxApp(generate_account(5, numbers=120)))
    meta = http.get("/v1/numbers", params={"page": 2, "per_page": 50}).json()["meta"]
    assert meta == {
        "count": 50,
        "total": 120,
        "current_page": 2,
        "per_page": 50,
        "next_page_link": f"{BASE}/v1/numbers?page=3&per_page=50",
        "previous_page_link": f"{BASE}/v1/numbers?page=1&per_page=50",
    }
    first = http.get("/v1/numbers").json()["meta"]
    assert (first["per_page"], first["previous_page_link"]) == (20, None)
    last = http.get("/v1/numbers", params={"page": 3, "per_page": 50}).json()["meta"]
    assert (last["count"], last["next_page_link"]) == (20, None)


def test_per_page_defaults_to_20() -> None:
    http = client(SandboxApp(generate_account(120)))
    assert http.get("/v2/users").json()["meta"] == {"count": 20, "total": 120, "current_page": 1}


def test_a_page_past_the_end_is_empty() -> None:
    http = client(SandboxApp(generate_account(30)))
    body = http.get("/v2/users", params={"page": 5, "per_page": 50}).json()
    assert body == {"users": [], "meta": {"count": 0, "total": 30, "current_page": 5}}
    numbers = http.get("/v1/numbers", params={"page": 5, "per_page": 50}).json()
    assert (numbers["numbers"], numbers["meta"]["next_page_link"]) == ([], None)


@pytest.mark.parametrize("path", ["/v2/users", "/v1/numbers"])
@pytest.mark.parametrize(
    "query",
    [
        {"page": "0"},
        {"page": "abc"},
        {"page": "-1"},
        {"per_page": "-1"},
        {"per_page": "0"},
        {"per_page": "51"},
        {"per_page": "500"},  # no clamping: the live API refuses it
        {"per_page": "abc"},
    ],
)
def test_bad_pagination_parameters_are_400_json(
    demo: httpx.Client, path: str, query: dict[str, str]
) -> None:
    response = demo.get(path, params=query)
    assert response.status_code == 400
    assert set(response.json()) == {"error", "troubleshoot"}


@pytest.mark.parametrize("per_page", [1, 50])
def test_per_page_bounds_are_accepted(per_page: int) -> None:
    http = client(SandboxApp(generate_account(60)))
    body = http.get("/v2/users", params={"per_page": per_page}).raise_for_status().json()
    assert body["meta"]["count"] == per_page


def test_listing_stops_at_10000_records() -> None:
    account = generate_account(10_050)
    http = client(SandboxApp(account))
    last = http.get("/v2/users", params={"page": 200, "per_page": 50}).json()
    # total is the real size, so a client can say what it missed
    assert last["meta"] == {"count": 50, "total": 10_050, "current_page": 200}
    assert last["users"][-1]["id"] == account.users()[9_999]["id"]
    beyond = http.get("/v2/users", params={"page": 201, "per_page": 50})
    assert beyond.status_code == 400
    assert "10000" in beyond.json()["error"]
    # A page straddling the cap is cut at it.
    straddle = http.get("/v2/users", params={"page": 334, "per_page": 30}).json()
    assert straddle["meta"]["count"] == 10


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


@pytest.mark.parametrize(
    "path", ["/v2/users/999", "/v2/users/abc", "/v1/numbers/1", "/nope", "/v2/users/1/x"]
)
def test_unknown_objects_and_paths_are_404_json(demo: httpx.Client, path: str) -> None:
    response = demo.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]


@pytest.mark.parametrize("path", ["/users", "/v2/numbers", "/v2/company", "/v3/users"])
def test_paths_outside_the_versions_of_each_resource_are_404(demo: httpx.Client, path: str) -> None:
    assert demo.get(path).status_code == 404


def test_ping_answers_pong_to_valid_credentials() -> None:
    app = SandboxApp(demo_account(), credentials=("api-id", "s3cret"))
    good = client(app, auth=("api-id", "s3cret")).get("/v1/ping")
    assert (good.status_code, good.json()) == (200, {"ping": "pong"})
    assert client(app, auth=("api-id", "nope")).get("/v1/ping").status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/users"), ("GET", "/v1/users/481002"), ("PUT", "/v1/users/481002")],
)
def test_retired_v1_user_routes_are_410_naming_v2(
    demo: httpx.Client, writes: list[AppliedWrite], method: str, path: str
) -> None:
    response = demo.request(method, path, json={"extension": "150"})
    assert response.status_code == 410
    assert "/v2/users" in response.json()["troubleshoot"]
    assert writes == []


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
        {"extension": "15a", "name": "x"},  # other fields do not excuse a bad extension
        {"extension": None},
        {"extension": ["101"]},
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


@pytest.mark.parametrize(
    "body", [{"name": "Bruno K."}, {}, {"email": "x@example.com", "outgoing_only": True}]
)
def test_a_put_without_extension_is_200_and_changes_nothing(
    demo: httpx.Client, writes: list[AppliedWrite], body: dict[str, Any]
) -> None:
    before = demo.get("/v2/users/481002").json()["user"]
    response = demo.put("/v2/users/481002", json=body)
    assert response.status_code == 200
    assert response.json()["user"] == before  # other fields are ignored, not stored
    assert demo.get("/v2/users/481002").json()["user"] == before
    assert writes == []


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b"\xff\xfe", b"null", b'"x"'])
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


def test_a_failing_write_hook_undoes_the_change() -> None:
    def fail(_write: AppliedWrite) -> None:
        raise OSError("disk full")

    app = SandboxApp(demo_account(), on_write=fail)
    with pytest.raises(OSError, match="disk full"):
        client(app).put("/v2/users/481002", json={"extension": "150"})
    assert extension_of(app, 481002) == "102"


# -- consistency --------------------------------------------------------------------------


@pytest.mark.parametrize("account", [demo_account(), generate_account(40, seed=3, numbers=5)])
def test_number_details_nest_the_same_users_as_the_user_routes(account: SandboxAccount) -> None:
    http = client(SandboxApp(account))
    users = {u["id"]: u for u in http.get("/v2/users", params={"per_page": 50}).json()["users"]}
    numbers = http.get("/v1/numbers", params={"per_page": 50}).json()["numbers"]
    nested = 0
    for listed in numbers:
        assert "users" not in listed
        detail = http.get(f"/v1/numbers/{listed['id']}").json()["number"]
        assert {k: v for k, v in detail.items() if k != "users"} == listed
        expected = [ref["id"] for ref in account.number(listed["id"])["users"]]  # type: ignore[index]
        assert [u["id"] for u in detail["users"]] == expected
        for user in detail["users"]:
            assert user == users[user["id"]]
            nested += 1
    assert nested  # the check means something
    assert all("numbers" not in u for u in users.values())
