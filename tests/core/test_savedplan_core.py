"""Saved plans: what a plan depends on, when it is stale, and reading the file back."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import pytest

from aircall_ext.core import savedplan
from aircall_ext.core.account import Account
from aircall_ext.core.savedplan import SavedPlan
from aircall_ext.errors import UsageError
from tests.core.test_planner_core import account_of, plan_for

# A swap (1, 2) through parking, a move into a free extension (3 → 150), an unchanged row
# (4), a blank cell (5); 6 is not in the file, 7 holds 160 which nobody targets.
HOLDINGS: dict[int, str | None] = {
    1: "101",
    2: "102",
    3: "103",
    4: "104",
    5: "105",
    6: "106",
    7: "160",
}
WANTED: list[tuple[int, str | None]] = [(1, "102"), (2, "101"), (3, "150"), (4, "104"), (5, None)]
IDENTITY = {"host": "api.aircall.io", "api_id_sha256": "0123456789abcdef", "sandbox": False}
CSV = b"user_id,extension\n1,102\n2,101\n3,150\n4,104\n5,\n"


def saved_plan(holdings: Mapping[int, str | None] = HOLDINGS) -> SavedPlan:
    plan = plan_for(holdings, WANTED)
    return savedplan.save(
        plan,
        account_of(holdings),
        tool="aircall-ext 0.2.0",
        created="2026-12-01T22:00:00+00:00",
        identity=IDENTITY,
        file_path="/data/users.csv",
        data=CSV,
    )


def moved(**changes: str | None) -> Account:
    holdings = dict(HOLDINGS)
    holdings.update({int(k.removeprefix("u")): v for k, v in changes.items()})
    return account_of(holdings)


def test_the_plan_depends_on_writers_planned_rows_and_holders_of_targets() -> None:
    saved = saved_plan()
    # 1, 2, 3 are written; 4 is an unchanged row; 5 (blank), 6 and 7 are not involved.
    assert [(u.id, u.extension) for u in saved.users] == [
        (1, "101"),
        (2, "102"),
        (3, "103"),
        (4, "104"),
    ]
    assert saved.parking is not None and saved.cycles == 1
    assert [s.user_id for s in saved.steps if s.parking] in ([1], [2])


def test_a_holder_of_a_target_is_involved_even_when_the_file_does_not_name_them() -> None:
    holdings = {**HOLDINGS, 7: "150"}  # 7 holds what 3 wants: the plan is blocked without 7
    plan = plan_for(holdings, [(3, "150"), (7, "170")])
    saved = savedplan.save(
        plan,
        account_of(holdings),
        tool="t",
        created="c",
        identity=IDENTITY,
        file_path="-",
        data=b"",
    )
    assert {u.id for u in saved.users} == {3, 7}


def test_an_untouched_account_is_not_stale() -> None:
    assert savedplan.stale_reasons(saved_plan(), account_of(HOLDINGS)) == []
    # Users the plan does not rest on may change freely.
    assert savedplan.stale_reasons(saved_plan(), moved(u6="199", u7="170", u5="155")) == []


def test_a_moved_involved_user_makes_it_stale_and_is_named_with_both_extensions() -> None:
    reasons = savedplan.stale_reasons(saved_plan(), moved(u2="199"))
    assert reasons == ["user 2 (u2@example.com) has 199, the plan expected 102"]


def test_a_vanished_user_makes_it_stale() -> None:
    holdings = {k: v for k, v in HOLDINGS.items() if k != 3}
    reasons = savedplan.stale_reasons(saved_plan(), account_of(holdings))
    assert reasons == ["user 3 (u3@example.com) no longer exists"]


def test_an_outsider_taking_a_target_or_the_parking_extension_makes_it_stale() -> None:
    saved = saved_plan()
    assert saved.parking is not None
    reasons = savedplan.stale_reasons(saved, moved(u6="150", u7=saved.parking))
    assert sorted(reasons) == sorted(
        [
            "extension 150 is now held by user 6 (u6@example.com), who is not in the plan",
            f"extension {saved.parking} is now held by user 7 (u7@example.com), "
            "who is not in the plan",
        ]
    )


def test_an_unchanged_rows_user_who_moved_makes_it_stale() -> None:
    reasons = savedplan.stale_reasons(saved_plan(), moved(u4=None))
    assert reasons == ["user 4 (u4@example.com) has no extension, the plan expected 104"]


def test_rows_that_now_resolve_to_another_user_are_named() -> None:
    saved = saved_plan()
    lines = {row.line: row.user_id for row in saved.rows}
    assert savedplan.moved_rows(saved, lines) == []
    assert savedplan.moved_rows(saved, {**lines, 3: 9}) == [
        "line 3 now names user 9, the plan has user 2"
    ]


def test_accounts_compare_on_host_api_id_and_sandbox() -> None:
    assert savedplan.same_account(IDENTITY, dict(IDENTITY))
    assert not savedplan.same_account(IDENTITY, {**IDENTITY, "host": "127.0.0.1:8080"})
    assert not savedplan.same_account(IDENTITY, {**IDENTITY, "api_id_sha256": "ffff"})
    assert not savedplan.same_account(IDENTITY, {**IDENTITY, "sandbox": True})


# -- the file ----------------------------------------------------------------------------


def document() -> dict[str, Any]:
    return json.loads(json.dumps(saved_plan().to_json()))


def test_the_document_round_trips_exactly() -> None:
    saved = saved_plan()
    doc = document()
    assert doc["format"] == "aircall-ext plan" and doc["version"] == 1
    assert doc["account"] == IDENTITY and "token" not in json.dumps(doc)
    assert doc["file"]["path"] == "/data/users.csv"
    assert base64.b64decode(doc["file"]["content_base64"]) == CSV
    assert doc["steps"] == [s.to_json() for s in saved.steps]
    assert savedplan.parse(doc, "p.json") == saved


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: [], "p.json is not an aircall-ext plan (field format)"),
        (
            lambda d: {**d, "format": "terraform"},
            "p.json is not an aircall-ext plan (field format)",
        ),
        (lambda d: {**d, "version": 2}, "p.json is a plan of version 2 (field version)"),
        (lambda d: {k: v for k, v in d.items() if k != "steps"}, "field steps: Field required"),
        (
            lambda d: {**d, "steps": [{**d["steps"][0], "user_id": "1"}]},
            "field steps[0].user_id: Input should be a valid integer",
        ),
        (
            lambda d: {**d, "plan": [{**d["plan"][0], "from": 101}]},
            "field plan[0].from: Input should be a valid string",
        ),
        (
            lambda d: {**d, "file": {**d["file"], "content_base64": "!!"}},
            "field file.content_base64",
        ),
        (
            lambda d: {**d, "file": {**d["file"], "sha256": "0" * 64}},
            "field file.content_base64 does not match file.sha256",
        ),
        (
            lambda d: {**d, "steps": [{**d["steps"][0], "user_id": 6}]},
            "field steps[0].user_id: user 6 is not among the plan's users",
        ),
    ],
)
def test_a_file_that_is_not_a_usable_plan_names_the_field(change: Any, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        savedplan.parse(change(document()), "p.json")
    assert message in caught.value.message
    assert caught.value.exit_code == 2
