"""The sandbox serves the live API's record shapes exactly, from new and older state documents."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from aircall_ext.sandbox.app import SandboxApp
from aircall_ext.sandbox.demo import demo_account, generate_account
from aircall_ext.sandbox.state import SandboxAccount, StateInvalid, created_at_for

BASE = "http://sandbox.test"
# The live API's fields in the live order, written out by hand (not imported from the
# sandbox) so that a wrong list in the code cannot agree with itself.
USER_KEYS = [
    "id", "direct_link", "name", "email", "created_at", "available", "availability_status",
    "state", "time_zone", "language", "wrap_up_time", "default_number_id", "extension",
    "outgoing_only",
]  # fmt: skip
# A listed number: no routing flag, no users (a number read on its own adds them).
NUMBER_KEYS = [
    "id", "direct_link", "name", "digits", "created_at", "country", "time_zone", "open",
    "availability_status", "is_ivr", "live_recording_activated", "priority", "messages",
]  # fmt: skip
NUMBER_DETAIL_KEYS = [*NUMBER_KEYS, "flow_editor_enabled", "users"]
COMPANY_KEYS = ["name", "users_count", "numbers_count"]
META_KEYS = ["count", "total", "current_page", "per_page", "next_page_link", "previous_page_link"]
TEAM_KEYS = ["id", "name", "direct_link", "created_at", "users"]
MEMBER_KEYS = [
    "id", "direct_link", "name", "email", "availability_status", "default_number_id",
    "created_at", "time_zone", "language", "wrap_up_time",
]  # fmt: skip
MESSAGE_KEYS = {
    "welcome", "waiting", "ivr", "voicemail", "closed", "callback_later", "unanswered_call",
    "after_hours", "ringing_tone",
}  # fmt: skip


def serve(account: SandboxAccount) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=SandboxApp(account)), base_url=BASE)


def without(keys: list[str], *dropped: str) -> list[str]:
    return [k for k in keys if k not in dropped]


def user(http: httpx.Client, user_id: int) -> dict[str, Any]:
    served: dict[str, Any] = http.get(f"/v2/users/{user_id}").raise_for_status().json()["user"]
    return served


# -- the demo account as served -------------------------------------------------------------


def test_a_v2_user_has_exactly_the_live_fields_in_the_live_order() -> None:
    served = user(serve(demo_account()), 481002)
    assert list(served) == USER_KEYS
    assert served["direct_link"] == f"{BASE}/v2/users/481002"
    assert served["created_at"].endswith(".000Z") and served["state"] == "active"
    assert (served["extension"], served["default_number_id"]) == ("102", 912001)


def test_a_user_without_extension_is_served_without_the_key() -> None:
    served = user(serve(demo_account()), 481007)  # Grace Liu
    assert list(served) == without(USER_KEYS, "extension")


def test_a_substatus_is_served_only_where_the_user_has_one() -> None:
    http = serve(demo_account())
    isabel = user(http, 481009)
    expected = [*USER_KEYS[:7], "substatus", *USER_KEYS[7:]]
    assert list(isabel) == expected
    assert (isabel["available"], isabel["availability_status"], isabel["substatus"]) == (
        False,
        "custom",
        "in_a_meeting",
    )
    everyone = http.get("/v2/users", params={"per_page": 50}).json()["users"]
    assert sorted(u["id"] for u in everyone if "substatus" in u) == [481001, 481009]


def test_no_user_anywhere_carries_numbers() -> None:
    http = serve(demo_account())
    listed = http.get("/v2/users", params={"per_page": 50}).json()["users"]
    nested = [u for n in (912001, 912002, 912003) for u in number_detail(http, n)["users"]]
    assert listed and nested
    assert not [u for u in [*listed, *nested] if "numbers" in u]


def number_detail(http: httpx.Client, number_id: int) -> dict[str, Any]:
    response = http.get(f"/v1/numbers/{number_id}").raise_for_status()
    detail: dict[str, Any] = response.json()["number"]
    return detail


def test_a_listed_number_has_the_live_fields_and_no_users_or_routing_flag() -> None:
    numbers = serve(demo_account()).get("/v1/numbers").json()["numbers"]
    for number in numbers:
        assert list(number) == NUMBER_KEYS
        assert set(number["messages"]) == MESSAGE_KEYS
    support = numbers[0]
    assert support["direct_link"] == f"{BASE}/v1/numbers/912001"
    assert (support["digits"], support["country"], support["open"]) == (
        "+33 1 76 36 06 95",
        "FR",
        True,
    )
    assert "e164_digits" not in support  # not a field of the live API


def test_a_number_detail_nests_its_distribution_as_full_v2_users() -> None:
    http = serve(demo_account())
    detail = number_detail(http, 912002)
    assert list(detail) == NUMBER_DETAIL_KEYS
    assert [u["id"] for u in detail["users"]] == [481001, 481004, 481009, 481011]
    for nested in detail["users"]:
        assert nested == user(http, nested["id"])
        assert nested["direct_link"] == f"{BASE}/v2/users/{nested['id']}"


def test_the_demo_has_one_number_per_routing_mode_and_every_feature() -> None:
    document = demo_account().document()
    flags = [(n["flow_editor_enabled"], n["is_ivr"]) for n in document["numbers"]]
    assert flags == [(True, False), (False, False), (False, True)]
    users = {u["id"]: u for u in document["users"]}
    assert "extension" not in users[481007]
    assert [u["id"] for u in users.values() if u.get("extension") == "104"] == [481004, 481005]
    assert users[481006]["outgoing_only"] is True
    assert users[481008]["availability_status"] == "unavailable"
    assert users[481009]["available"] is False
    assert (users[481010]["extension"], users[481011]["extension"]) == ("42", "007")


@pytest.mark.parametrize("path", ["/v2/users", "/v1/numbers", "/v1/teams", "/v2/users/1/numbers"])
def test_every_listing_has_the_live_meta(path: str) -> None:
    http = serve(generate_account(3, numbers=2, teams=2))
    path = path.replace("/1/", "/500001/")
    assert list(http.get(path).raise_for_status().json()["meta"]) == META_KEYS


def test_the_company_has_exactly_the_live_keys() -> None:
    company = serve(demo_account()).get("/v1/company").json()["company"]
    assert list(company) == COMPANY_KEYS


def test_teams_and_their_members_have_exactly_the_live_keys() -> None:
    http = serve(demo_account())
    teams = http.get("/v1/teams").json()["teams"]
    assert teams and all(list(t) == TEAM_KEYS for t in teams)
    members = [m for t in teams for m in t["users"]]
    assert members and all(list(m) == MEMBER_KEYS for m in members)
    for member in members:
        served = user(http, member["id"])
        assert member == {key: served[key] for key in MEMBER_KEYS}


def test_a_write_to_a_user_without_extension_keeps_the_served_order() -> None:
    http = serve(demo_account())
    assert http.put("/v2/users/481007", json={"extension": "140"}).status_code == 200
    served = user(http, 481007)
    assert list(served) == USER_KEYS
    assert served["extension"] == "140"


# -- older state documents ------------------------------------------------------------------

# What the previous sandbox wrote: v1 users carrying `numbers`, null placeholders, numbers
# with `e164_digits`, denormalised distribution entries, no number created_at.
OLD_DOCUMENT: dict[str, Any] = {
    "company": {"name": "Old", "users_count": 2, "numbers_count": 1},
    "users": [
        {
            "id": 7,
            "name": "Ann",
            "email": "ann@example.com",
            "available": True,
            "availability_status": "available",
            "extension": "101",
            "outgoing_only": False,
            "direct_link": None,
            "created_at": None,
            "time_zone": None,
            "language": None,
            "numbers": [{"id": 9, "name": "Main", "digits": "+33 1 00"}],
        },
        {"id": 8, "name": "Bo", "email": "bo@example.com", "numbers": []},
    ],
    "numbers": [
        {
            "id": 9,
            "name": "Main",
            "digits": "+33 1 00",
            "e164_digits": "+33100",
            "flow_editor_enabled": False,
            "is_ivr": True,
            "users": [{"id": 7, "name": "Ann", "email": "ann@example.com"}],
            "direct_link": None,
            "country": None,
            "time_zone": None,
        }
    ],
}


def test_an_old_v1_shaped_document_is_served_in_the_live_shapes() -> None:
    http = serve(SandboxAccount.from_document(copy.deepcopy(OLD_DOCUMENT)))
    ann, bo = http.get("/v2/users").json()["users"]
    assert list(ann) == USER_KEYS
    assert list(bo) == USER_KEYS  # an old user without the key: no extension, served as null
    assert bo["extension"] is None
    assert ann["created_at"] == created_at_for(7)
    assert (ann["time_zone"], ann["language"], ann["wrap_up_time"]) == ("Etc/UTC", "en-US", 0)
    listed = http.get("/v1/numbers").json()["numbers"][0]
    # An unknown (to the live API) stored field is kept and served after the live ones.
    assert list(listed) == [*NUMBER_KEYS, "e164_digits"]
    assert (listed["country"], listed["is_ivr"], listed["priority"]) == ("FR", True, None)
    assert listed["messages"] == dict.fromkeys(MESSAGE_KEYS)
    detail = number_detail(http, 9)
    assert detail["users"] == [ann]


def test_an_old_number_without_routing_flags_reads_as_legacy_classic() -> None:
    doc = copy.deepcopy(OLD_DOCUMENT)
    del doc["numbers"][0]["flow_editor_enabled"], doc["numbers"][0]["is_ivr"]
    number = SandboxAccount.from_document(doc).numbers()[0]
    assert (number["flow_editor_enabled"], number["is_ivr"]) == (False, False)


def test_a_live_shaped_document_is_served_as_stored_absent_and_null_included() -> None:
    doc = demo_account().document()
    smart = doc["numbers"][0]
    del smart["flow_editor_enabled"]
    doc["numbers"][1]["is_ivr"] = None
    doc["numbers"][2]["flow_editor_enabled"] = None
    doc["users"][0]["x_team"] = "blue"
    http = serve(SandboxAccount.from_document(doc))
    assert "flow_editor_enabled" not in number_detail(http, 912001)
    assert http.get("/v1/numbers").json()["numbers"][1]["is_ivr"] is None
    assert number_detail(http, 912003)["flow_editor_enabled"] is None
    assert user(http, 481001)["x_team"] == "blue"
    assert list(user(http, 481001))[-1] == "x_team"


def test_distribution_entries_may_be_full_user_objects_only_the_id_is_read() -> None:
    doc = demo_account().document()
    http = serve(demo_account())
    doc["numbers"][0]["users"] = [user(http, 481002), {"id": 481001, "name": "stale"}]
    account = SandboxAccount.from_document(doc)
    assert account.numbers()[0]["users"] == [{"id": 481002}, {"id": 481001}]


@pytest.mark.parametrize(
    "account",
    [
        demo_account(),
        generate_account(30, seed=4, numbers=4),
        SandboxAccount.from_document(copy.deepcopy(OLD_DOCUMENT)),
    ],
)
def test_documents_round_trip_through_from_document(account: SandboxAccount) -> None:
    document = account.document()
    again = SandboxAccount.from_document(json.loads(json.dumps(document))).document()
    assert again == document
    assert [list(u) for u in again["users"]] == [list(u) for u in document["users"]]
    assert all("numbers" not in u and "direct_link" not in u for u in document["users"])


def test_generated_accounts_have_the_full_shapes_and_are_the_same_for_a_seed() -> None:
    first = generate_account(60, seed=9, numbers=3).document()
    assert first == generate_account(60, seed=9, numbers=3).document()
    assert first != generate_account(60, seed=10, numbers=3).document()
    http = serve(generate_account(60, seed=9, numbers=3))
    assert all(list(u) == USER_KEYS for u in http.get("/v2/users").json()["users"])
    assert all(list(n) == NUMBER_KEYS for n in http.get("/v1/numbers").json()["numbers"])
    members = {ref["id"] for n in first["numbers"] for ref in n["users"]}
    homes = {u["id"] for u in first["users"] if u["default_number_id"] is not None}
    assert homes == members


@pytest.mark.parametrize(
    ("where", "field", "value", "problem"),
    [
        ("users", "wrap_up_time", "30", "users[0].wrap_up_time: unexpected str"),
        ("users", "wrap_up_time", True, "users[0].wrap_up_time: unexpected bool"),
        ("users", "wrap_up_time", -1, "users[0].wrap_up_time: must be 0 or more"),
        ("users", "substatus", None, "users[0].substatus: unexpected null"),
        ("users", "default_number_id", "912001", "users[0].default_number_id: unexpected str"),
        ("numbers", "availability_status", "busy", "numbers[0].availability_status: must be"),
        ("numbers", "priority", 2, "numbers[0].priority: must be null, 0 or 1"),
        ("numbers", "messages", [], "numbers[0].messages: unexpected list"),
        ("numbers", "is_ivr", "yes", "numbers[0].is_ivr: unexpected str"),
        ("numbers", "open", None, None),  # a null where the API never sends one: the default
    ],
)
def test_new_fields_are_checked(where: str, field: str, value: object, problem: str | None) -> None:
    doc = demo_account().document()
    doc[where][0][field] = value
    if problem is None:
        assert SandboxAccount.from_document(doc).numbers()[0][field] is True
        return
    with pytest.raises(StateInvalid) as caught:
        SandboxAccount.from_document(doc)
    assert str(caught.value).startswith(problem)
