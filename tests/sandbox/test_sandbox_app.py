"""The sandbox API driven through httpx's WSGI transport: no network, no sleeping."""

from __future__ import annotations

import json
from pathlib import Path
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

# The live API's refusal, as captured: the sandbox must say it word for word.
OUT_OF_BOUND = json.loads(
    (Path(__file__).parents[1] / "fixtures/live/page_out_of_bounds_400.json").read_text("utf-8")
)


def meta(page: int, count: int, total: int, per_page: int, path: str = "/v2/users") -> Any:
    """The live meta of a page, links written out in full."""

    def link(number: int) -> str:
        return f"{BASE}{path}?page={number}&per_page={per_page}"

    last = (page - 1) * per_page + count >= total
    return {
        "count": count,
        "total": total,
        "current_page": page,
        "per_page": per_page,
        "next_page_link": None if last else link(page + 1),
        "previous_page_link": link(page - 1) if page > 1 else None,
    }


def test_123_users_list_in_3_pages_of_50_with_absolute_links() -> None:
    account = generate_account(123)
    http = client(SandboxApp(account))
    pages = [
        http.get("/v2/users", params={"page": page, "per_page": 50}).raise_for_status().json()
        for page in (1, 2, 3)
    ]
    assert [p["meta"] for p in pages] == [
        meta(1, 50, 123, 50),
        meta(2, 50, 123, 50),
        meta(3, 23, 123, 50),
    ]
    assert pages[1]["meta"]["next_page_link"] == f"{BASE}/v2/users?page=3&per_page=50"
    assert [u["id"] for p in pages for u in p["users"]] == [u["id"] for u in account.users()]


def test_links_are_built_on_the_host_the_client_used() -> None:
    app = SandboxApp(generate_account(120))
    with httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="https://api.aircall.io"
    ) as http:
        first = http.get("/v2/users", params={"per_page": 50}).json()["meta"]
    assert first["next_page_link"] == "https://api.aircall.io/v2/users?page=2&per_page=50"


@pytest.mark.parametrize(
    "path", ["/v2/users", "/v1/numbers", "/v1/teams", "/v2/users/500001/numbers"]
)
def test_every_listing_pages_with_the_full_meta(path: str) -> None:
    http = client(SandboxApp(generate_account(60, numbers=60, teams=3)))
    first = http.get(path, params={"per_page": 1}).raise_for_status().json()
    total = first["meta"]["total"]
    assert total >= 2
    assert first["meta"] == meta(1, 1, total, 1, path)
    walked, url = 0, path + "?per_page=1"
    while url:
        body = http.get(url).raise_for_status().json()
        walked += body["meta"]["count"]
        url = body["meta"]["next_page_link"]
    assert walked == total


def test_per_page_defaults_to_20() -> None:
    http = client(SandboxApp(generate_account(120)))
    assert http.get("/v2/users").json()["meta"] == meta(1, 20, 120, 20)


@pytest.mark.parametrize("per_page", ["51", "500", "99999999999999999999999"])
def test_per_page_above_50_is_clamped_to_50(per_page: str) -> None:
    http = client(SandboxApp(generate_account(120)))
    body = http.get("/v2/users", params={"per_page": per_page}).raise_for_status().json()
    assert body["meta"] == meta(1, 50, 120, 50)
    assert len(body["users"]) == 50


def test_the_cap_applies_to_the_clamped_page_size(demo: httpx.Client) -> None:
    within = demo.get("/v2/users", params={"page": 200, "per_page": 500})  # 200 x 50
    assert (within.status_code, within.json()["meta"]["per_page"]) == (200, 50)
    assert demo.get("/v2/users", params={"page": 201, "per_page": 500}).status_code == 400


def test_a_page_past_the_end_is_empty() -> None:
    http = client(SandboxApp(generate_account(30)))
    body = http.get("/v2/users", params={"page": 5, "per_page": 50}).json()
    assert body == {"users": [], "meta": meta(5, 0, 30, 50)}


@pytest.mark.parametrize("path", ["/v2/users", "/v1/numbers", "/v1/teams"])
@pytest.mark.parametrize(
    ("query", "page", "per_page"),
    [
        ({"page": "0"}, 1, 20),
        ({"page": "abc"}, 1, 20),
        ({"page": "-1"}, 1, 20),
        ({"page": ""}, 1, 20),
        ({"page": "2", "per_page": "0"}, 2, 20),
        ({"per_page": "-1"}, 1, 20),
        ({"per_page": "abc"}, 1, 20),
        ({"per_page": "1.5"}, 1, 20),
        ({"page": "\u0662"}, 1, 20),  # an Arabic-Indic 2: a digit, not an ASCII one
        ({"page": "002", "per_page": "05"}, 2, 5),
    ],
)
def test_page_parameters_that_are_not_positive_integers_count_as_absent(
    demo: httpx.Client, path: str, query: dict[str, str], page: int, per_page: int
) -> None:
    response = demo.get(path, params=query)
    assert response.status_code == 200
    got = response.json()["meta"]
    assert (got["current_page"], got["per_page"]) == (page, per_page)


@pytest.mark.parametrize("per_page", [1, 50])
def test_per_page_bounds_are_accepted(per_page: int) -> None:
    http = client(SandboxApp(generate_account(60)))
    body = http.get("/v2/users", params={"per_page": per_page}).raise_for_status().json()
    assert body["meta"]["count"] == per_page


@pytest.mark.parametrize(
    "query",
    [
        {"page": "201", "per_page": "50"},
        {"page": "10001", "per_page": "1"},
        {"page": "334", "per_page": "30"},  # a page straddling the cap is refused too
        {"page": "9" * 30},
    ],
)
def test_a_page_reaching_past_10000_records_is_the_live_400_whatever_the_total(
    demo: httpx.Client, query: dict[str, str]
) -> None:
    response = demo.get("/v2/users", params=query)
    assert response.status_code == 400
    assert response.json() == OUT_OF_BOUND
    assert list(response.json()) == list(OUT_OF_BOUND)


def test_listing_stops_at_10000_records() -> None:
    account = generate_account(10_050)
    http = client(SandboxApp(account))
    last = http.get("/v2/users", params={"page": 200, "per_page": 50}).json()
    # total is the real size, so a client can say what it missed; no link to a refused page
    assert last["meta"]["total"] == 10_050
    assert (last["meta"]["count"], last["meta"]["next_page_link"]) == (50, None)
    assert last["users"][-1]["id"] == account.users()[9_999]["id"]
    assert http.get("/v2/users", params={"page": 201, "per_page": 50}).status_code == 400
    before_straddle = http.get("/v2/users", params={"page": 333, "per_page": 30}).json()
    assert before_straddle["meta"]["next_page_link"] is None


# -- reading ------------------------------------------------------------------------------


def test_the_company_is_its_name_and_counts_that_match_the_account(demo: httpx.Client) -> None:
    company = demo.get("/v1/company").json()["company"]
    assert company == {
        "name": demo_account().company["name"],
        "users_count": len(demo_account().users()),
        "numbers_count": len(demo_account().numbers()),
    }


def test_a_company_loaded_with_more_fields_is_served_with_the_live_keys_only() -> None:
    document = demo_account().document()
    document["company"].update(id=42, created_at="2020-01-01T00:00:00.000Z")
    http = client(SandboxApp(SandboxAccount.from_document(document)))
    assert list(http.get("/v1/company").json()["company"]) == [
        "name",
        "users_count",
        "numbers_count",
    ]


def test_get_user_and_number_carry_direct_links_on_the_requests_host(demo: httpx.Client) -> None:
    user = demo.get("/v2/users/481011").json()["user"]
    assert (user["extension"], user["direct_link"]) == ("007", f"{BASE}/v2/users/481011")
    number = demo.get("/v1/numbers/912002").json()["number"]
    assert number["direct_link"] == f"{BASE}/v1/numbers/912002"


@pytest.mark.parametrize(
    "path",
    [
        "/v2/users/999",
        "/v2/users/abc",
        "/v2/users/nobody@example.com",
        "/v2/users/999/numbers",
        "/v1/numbers/1",
        "/v1/teams/1",
        "/v1/teams/Sales",
        "/nope",
        "/v2/users/1/x",
        "/v1/teams/7001/users",
    ],
)
def test_unknown_objects_and_paths_are_404_json(demo: httpx.Client, path: str) -> None:
    response = demo.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]


@pytest.mark.parametrize(
    "path",
    ["/users", "/v2/numbers", "/v2/company", "/v3/users", "/v2/teams"],
)
def test_paths_outside_the_versions_of_each_resource_are_404(demo: httpx.Client, path: str) -> None:
    assert demo.get(path).status_code == 404


def test_ping_answers_pong_to_valid_credentials() -> None:
    app = SandboxApp(demo_account(), credentials=("api-id", "s3cret"))
    good = client(app, auth=("api-id", "s3cret")).get("/v1/ping")
    assert (good.status_code, good.json()) == (200, {"ping": "pong"})
    assert client(app, auth=("api-id", "nope")).get("/v1/ping").status_code == 403


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


def test_no_credentials_is_401_as_live() -> None:
    app = SandboxApp(demo_account(), credentials=("api-id", "s3cret"))
    assert client(app, auth=("api-id", "s3cret")).get("/v1/company").status_code == 200
    response = client(app).get("/v1/company")
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})
    assert response.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize("auth", [("api-id", "wrong"), ("other", "s3cret"), ("api-id", "")])
def test_credentials_that_do_not_match_are_403_as_live(auth: tuple[str, str]) -> None:
    app = SandboxApp(demo_account(), credentials=("api-id", "s3cret"))
    response = client(app, auth=auth).get("/v1/company")
    assert (response.status_code, response.json()) == (403, {"message": "Forbidden"})


@pytest.mark.parametrize("header", ["Bearer abc", "Basic !!!", "Basic " + "YXBpLWlk"])
def test_malformed_authorization_headers_are_403(header: str) -> None:
    app = SandboxApp(demo_account(), credentials=("api-id", "s3cret"))
    assert client(app).get("/v1/company", headers={"Authorization": header}).status_code == 403


@pytest.mark.parametrize(("auth", "status"), [(None, 401), (("api-id", "wrong"), 403)])
def test_a_put_without_the_right_credentials_writes_nothing(
    auth: tuple[str, str] | None, status: int
) -> None:
    app = SandboxApp(demo_account(), credentials=("api-id", "s3cret"))
    response = client(app, auth=auth).put("/v2/users/481002", json={"extension": "150"})
    assert response.status_code == status
    assert extension_of(app, 481002) == "102"


# -- a user by email, a user's numbers ----------------------------------------------------


@pytest.mark.parametrize(
    "email", ["kavya.iyer@example.com", "Kavya.Iyer@Example.COM", "kavya.iyer%40example.com"]
)
def test_a_user_is_read_by_email_ignoring_the_case_of_ascii_letters(
    demo: httpx.Client, email: str
) -> None:
    by_email = demo.get(f"/v2/users/{email}").raise_for_status().json()
    assert by_email == demo.get("/v2/users/481011").json()


def test_an_exact_email_wins_over_one_that_differs_in_case_only() -> None:
    document = demo_account().document()
    document["users"][0]["email"] = "ANN@example.com"
    document["users"][1]["email"] = "ann@example.com"
    http = client(SandboxApp(SandboxAccount.from_document(document)))
    assert http.get("/v2/users/ann@example.com").json()["user"]["id"] == 481002
    assert http.get("/v2/users/ANN@example.com").json()["user"]["id"] == 481001
    assert http.get("/v2/users/Ann@example.com").json()["user"]["id"] == 481001  # lowest id


def test_only_ascii_letters_are_folded() -> None:
    document = demo_account().document()
    document["users"][0]["email"] = "élodie@example.com"
    http = client(SandboxApp(SandboxAccount.from_document(document)))
    assert http.get("/v2/users/élodie@example.com").status_code == 200
    assert http.get("/v2/users/ÉLODIE@example.com").status_code == 404


def test_a_put_may_name_the_user_by_email(demo: httpx.Client, writes: list[AppliedWrite]) -> None:
    response = demo.put("/v2/users/BRUNO.keller@example.com", json={"extension": "150"})
    assert (response.status_code, response.json()["user"]["id"]) == (200, 481002)
    assert [(w.user_id, w.extension) for w in writes] == [(481002, "150")]


@pytest.mark.parametrize("who", ["481001", "amelia.hart@example.com"])
def test_a_users_numbers_are_those_whose_distribution_holds_them(
    demo: httpx.Client, who: str
) -> None:
    body = demo.get(f"/v2/users/{who}/numbers").raise_for_status().json()
    assert [n["id"] for n in body["numbers"]] == [912001, 912002]
    assert body["meta"] == meta(1, 2, 2, 20, f"/v2/users/{who}/numbers")
    listed = {n["id"]: n for n in demo.get("/v1/numbers").json()["numbers"]}
    assert body["numbers"] == [listed[912001], listed[912002]]  # the listing's shape


def test_a_user_in_no_distribution_has_an_empty_listing(demo: httpx.Client) -> None:
    body = demo.get("/v2/users/481007/numbers").raise_for_status().json()
    assert body == {"numbers": [], "meta": meta(1, 0, 0, 20, "/v2/users/481007/numbers")}


# -- teams --------------------------------------------------------------------------------


def test_teams_list_their_members_without_extension(demo: httpx.Client) -> None:
    body = demo.get("/v1/teams").raise_for_status().json()
    assert [(t["id"], t["name"]) for t in body["teams"]] == [
        (7001, "Sales"),
        (7002, "Customer Support"),
        (7003, "Reception"),
    ]
    sales = body["teams"][0]
    assert list(sales) == ["id", "name", "direct_link", "created_at", "users"]
    assert sales["direct_link"] == f"{BASE}/v1/teams/7001"
    assert [u["id"] for u in sales["users"]] == [481013, 481014, 481017]
    maya = sales["users"][0]
    assert maya == {
        "id": 481013,
        "direct_link": f"{BASE}/v2/users/481013",
        "name": "Maya Fischer",
        "email": "maya.fischer@example.com",
        "availability_status": "available",
        "default_number_id": None,
        "created_at": demo.get("/v2/users/481013").json()["user"]["created_at"],
        "time_zone": "Europe/Berlin",
        "language": "en-US",
        "wrap_up_time": 0,
    }
    assert body["meta"] == meta(1, 3, 3, 20, "/v1/teams")


def test_a_team_is_read_on_its_own(demo: httpx.Client) -> None:
    listed = demo.get("/v1/teams").json()["teams"][1]
    assert demo.get("/v1/teams/7002").json() == {"team": listed}


def test_team_members_follow_the_users_they_are(demo: httpx.Client) -> None:
    assert demo.put("/v2/users/481013", json={"extension": "202"}).status_code == 200
    member = demo.get("/v1/teams/7001").json()["team"]["users"][0]
    assert "extension" not in member
    assert member["name"] == "Maya Fischer"


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


def test_the_write_hook_runs_after_the_commit_and_its_failure_propagates() -> None:
    def fail(_write: AppliedWrite) -> None:
        raise OSError("disk full")

    app = SandboxApp(demo_account(), on_write=fail)
    with pytest.raises(OSError, match="disk full"):
        client(app).put("/v2/users/481002", json={"extension": "150"})
    assert extension_of(app, 481002) == "150"  # committed first: the hook only logs it


# -- consistency --------------------------------------------------------------------------


@pytest.mark.parametrize("account", [demo_account(), generate_account(40, seed=3, numbers=5)])
def test_number_details_nest_the_same_users_as_the_user_routes(account: SandboxAccount) -> None:
    http = client(SandboxApp(account))
    users = {u["id"]: u for u in http.get("/v2/users", params={"per_page": 50}).json()["users"]}
    numbers = http.get("/v1/numbers", params={"per_page": 50}).json()["numbers"]
    nested = 0
    for listed in numbers:
        assert "users" not in listed and "flow_editor_enabled" not in listed
        detail = http.get(f"/v1/numbers/{listed['id']}").json()["number"]
        assert isinstance(detail["flow_editor_enabled"], bool)
        assert {
            k: v for k, v in detail.items() if k not in {"users", "flow_editor_enabled"}
        } == listed
        expected = [ref["id"] for ref in account.number(listed["id"])["users"]]  # type: ignore[index]
        assert [u["id"] for u in detail["users"]] == expected
        for user in detail["users"]:
            assert user == users[user["id"]]
            nested += 1
    assert nested  # the check means something
    assert all("numbers" not in u for u in users.values())


def test_links_of_a_listing_named_by_email_lead_back_to_it() -> None:
    document = generate_account(3, numbers=60).document()
    document["users"][0]["email"] = "zoë+ops@example.com"
    http = client(SandboxApp(SandboxAccount.from_document(document)))
    first = http.get("/v2/users/zoë+ops@example.com/numbers", params={"per_page": 1}).json()
    link = first["meta"]["next_page_link"]
    assert link == f"{BASE}/v2/users/zo%C3%AB+ops@example.com/numbers?page=2&per_page=1"
    second = http.get(link).raise_for_status().json()
    assert second["meta"]["current_page"] == 2 and second["numbers"] != first["numbers"]
