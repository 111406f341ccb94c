"""Saved plans: what a plan depends on, when it is stale, and reading the file back."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from aircall_ext.core import savedplan
from aircall_ext.core.account import Account
from aircall_ext.core.csvfile import read_extension_csv
from aircall_ext.core.desired import check_desired
from aircall_ext.core.freeext import DEFAULT_ORDER
from aircall_ext.core.identity import AccountIdentity
from aircall_ext.core.planner import plan_import
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
IDENTITY = AccountIdentity("api.aircall.io", "0123456789abcdef")
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
    assert saved.parking is not None and saved.plan().cycles == 1
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
    assert saved_plan().basis.stale_reasons(account_of(HOLDINGS)) == []
    # Users the plan does not rest on may change freely.
    assert saved_plan().basis.stale_reasons(moved(u6="199", u7="170", u5="155")) == []


def test_a_moved_involved_user_makes_it_stale_and_is_named_with_both_extensions() -> None:
    reasons = saved_plan().basis.stale_reasons(moved(u2="199"))
    assert reasons == ["user 2 (u2@example.com) has 199, the plan expected 102"]


def test_a_vanished_user_makes_it_stale() -> None:
    holdings = {k: v for k, v in HOLDINGS.items() if k != 3}
    reasons = saved_plan().basis.stale_reasons(account_of(holdings))
    assert reasons == ["user 3 (u3@example.com) no longer exists"]


def test_an_outsider_taking_a_target_or_the_parking_extension_makes_it_stale() -> None:
    saved = saved_plan()
    assert saved.parking is not None
    reasons = saved.basis.stale_reasons(moved(u6="150", u7=saved.parking))
    assert sorted(reasons) == sorted(
        [
            "extension 150 is now held by user 6 (u6@example.com), who is not in the plan",
            f"extension {saved.parking} is now held by user 7 (u7@example.com), "
            "who is not in the plan",
        ]
    )


def test_an_outsider_whose_damaged_value_claims_a_target_makes_it_stale() -> None:
    saved = saved_plan()
    assert saved.parking is not None
    lost = f"{saved.parking}.0"  # the parking extension, as a spreadsheet wrote it
    reasons = saved.basis.stale_reasons(moved(u6=" 150", u7=lost))
    assert sorted(reasons) == sorted(
        [
            f"extension {saved.parking} is now claimed by user 7 (u7@example.com), whose "
            f"extension {lost!r} is a damaged {saved.parking}, who is not in the plan",
            "extension 150 is now claimed by user 6 (u6@example.com), whose extension "
            "' 150' is a damaged 150, who is not in the plan",
        ]
    )


def test_an_unchanged_rows_user_who_moved_makes_it_stale() -> None:
    reasons = saved_plan().basis.stale_reasons(moved(u4=None))
    assert reasons == ["user 4 (u4@example.com) has no extension, the plan expected 104"]


def test_rows_that_now_resolve_to_another_user_are_named() -> None:
    saved = saved_plan()
    lines = {row.line: row.user_id for row in saved.rows}
    assert saved.basis.moved_rows(lines) == []
    assert saved.basis.moved_rows({**lines, 3: 9}) == [
        "line 3 now names user 9, the plan has user 2"
    ]


# -- the file ----------------------------------------------------------------------------


def document() -> dict[str, Any]:
    return json.loads(json.dumps(saved_plan().to_json()))


def test_the_document_round_trips_exactly() -> None:
    saved = saved_plan()
    doc = document()
    assert doc["format"] == "aircall-ext plan" and doc["version"] == 1
    assert doc["account"] == IDENTITY.to_json() and "token" not in json.dumps(doc)
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


# -- a plan is what its CSV plans -------------------------------------------------------


def edited(change: Any) -> dict[str, Any]:
    doc = document()
    change(doc)
    return doc


def retarget(doc: dict[str, Any]) -> None:
    """3's row and write say 199 where the CSV asks for 150."""
    (row,) = [r for r in doc["plan"] if r["user_id"] == 3]
    (step,) = [s for s in doc["steps"] if s["user_id"] == 3]
    row["to"] = step["to"] = "199"


def add_a_writer(doc: dict[str, Any]) -> None:
    """A write (and its user) for 6, whom no row names."""
    doc["users"].append({"id": 6, "email": "u6@example.com", "extension": "106"})
    doc["steps"].append({"user_id": 6, "from": "106", "to": "170", "parking": False})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (retarget, "field plan[2].to is '199', but its CSV plans '150' for line 4"),
        (add_a_writer, "field steps[4] is user 6 106 → 170, a write its CSV does not plan"),
        (lambda d: d.update(steps=[]), "field steps: 0 writes, but its CSV plans 4"),
        (
            lambda d: d["steps"].reverse(),
            "field steps[0] is user 1 100 → 102, but its CSV plans user 3 103 → 150 there",
        ),
        (
            lambda d: d["users"][1].update(extension="112"),
            "field plan[1].from is '102', but its CSV plans '112' for line 3",
        ),
        (lambda d: d["plan"].pop(3), "field plan[3].line is 6, but its CSV plans 5 for line 5"),
        (
            lambda d: d["users"].append({"id": 7, "email": "u7@example.com", "extension": "160"}),
            "field users: user 7 is not involved in what its CSV plans",
        ),
        (lambda d: d.update(parking="104"), "field parking: its CSV's cycles cannot park on 104"),
        (
            lambda d: d.update(parking="1000"),
            "field parking: '1000' is not a three-digit extension",
        ),
        (
            lambda d: d["users"].append({"id": 7, "email": "u7@example.com", "extension": "150"}),
            "its CSV does not plan against its users: /data/users.csv:4:2: extension 150 is "
            "held by user 7 (u7@example.com), whom the file does not move away",
        ),
    ],
)
def test_a_plan_that_is_not_what_its_csv_plans_is_damaged(change: Any, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        savedplan.parse(edited(change), "p.json")
    assert caught.value.message.startswith("p.json is damaged: ")
    assert message in caught.value.message
    assert caught.value.exit_code == 2


def test_a_parking_extension_above_ones_held_outside_the_plan_is_no_damage() -> None:
    """100-109 are held by users the plan does not involve, so the swap parks on 110; the
    plan does not record them, and still reads back."""
    outsiders = {200 + n: f"1{n:02d}" for n in range(10)}
    holdings = {**outsiders, 1: "201", 2: "202"}
    plan = plan_for(holdings, [(1, "202"), (2, "201")])
    assert plan.parking == "110"
    saved = savedplan.save(
        plan, account_of(holdings), tool="t", created="2026-12-01T22:00:00+00:00",
        identity=IDENTITY, file_path="/data/swap.csv", data=b"user_id,extension\n1,202\n2,201\n",
    )  # fmt: skip
    assert {u.id for u in saved.users} == {1, 2}
    assert savedplan.parse(json.loads(json.dumps(saved.to_json())), "p.json") == saved


# Accounts with users the plan does not involve on the lowest extensions (so the parking
# extension is not the lowest), nearly full ones (it is one a chain frees), damaged values.
extensions = st.integers(0, 999).map(lambda n: f"{n:03d}")


@st.composite
def accounts_and_files(draw: st.DrawFn) -> tuple[dict[int, str | None], bytes]:
    """Users reshuffled over a few extensions (cycles, chains into free ones), with users
    outside the file on the lowest extensions (0 to all of the rest) and damaged values."""
    count = draw(st.integers(2, 8))
    pool = draw(st.lists(extensions, min_size=count, max_size=count + 2, unique=True))
    users = range(1, count + 1)
    holdings: dict[int, str | None] = {
        u: None if draw(st.booleans()) and u == 1 else pool[u - 1] for u in users
    }
    targets = draw(st.permutations(pool))
    blank = draw(st.sets(st.sampled_from(list(users)), max_size=2))
    outsiders = [e for e in DEFAULT_ORDER if e not in pool][
        : draw(st.integers(0, 1000) | st.just(1000))
    ]
    holdings.update({1000 + n: e for n, e in enumerate(outsiders)})
    for n, lost in enumerate(draw(st.lists(st.integers(0, 99), max_size=2))):
        holdings[2000 + n] = str(lost)  # a 0nn that lost its zero
    order = draw(st.permutations(list(users)))
    csv = "user_id,extension\n" + "".join(
        f"{u},{'' if u in blank else targets[u - 1]}\n" for u in order
    )
    return holdings, csv.encode()


@settings(max_examples=150)
@given(accounts_and_files())
def test_property_every_plan_a_clean_dry_run_saves_reads_back(
    case: tuple[dict[int, str | None], bytes],
) -> None:
    holdings, data = case
    account = account_of(holdings)
    desired = check_desired(read_extension_csv(data, source="f.csv"), account)
    assume(not desired.has_errors)
    plan = plan_import(account, desired.rows)
    assume(not plan.blocked)
    where = plan.parking if plan.parking in (None, "100") else "beyond 100"
    if plan.parking is not None and plan.parking in holdings.values():
        where = "freed by a chain"
    event(f"cycles: {min(plan.cycles, 2)}; parking {where}")
    saved = savedplan.save(
        plan, account, tool="t", created="2026-12-01T22:00:00+00:00", identity=IDENTITY,
        file_path="/data/f.csv", data=data,
    )  # fmt: skip
    doc = json.loads(json.dumps(saved.to_json()))
    assert savedplan.parse(doc, "p.json") == saved
    if saved.steps:  # and any write retargeted is damage
        step = doc["steps"][-1]
        step["to"] = next(e for e in ("997", "998", "999") if e != step["to"])
        with pytest.raises(UsageError, match="is damaged"):
            savedplan.parse(doc, "p.json")


# -- applied already -------------------------------------------------------------------


def test_an_account_that_holds_exactly_the_targets_has_the_plan_applied_already() -> None:
    saved = saved_plan()
    assert not savedplan.applied_already(saved, account_of(HOLDINGS))
    after = {**HOLDINGS, 1: "102", 2: "101", 3: "150"}
    assert savedplan.applied_already(saved, account_of(after))
    assert not savedplan.applied_already(saved, account_of({**after, 6: "150"}))  # shared
    assert not savedplan.applied_already(saved, account_of({**after, 2: "109"}))
