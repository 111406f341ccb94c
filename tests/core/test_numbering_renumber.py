"""renumber: who moves, where to, who cannot be placed; and that import can apply it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import event, given, settings

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.csvfile import read_extension_csv
from aircall_ext.core.desired import check_desired
from aircall_ext.core.freeext import damaged_claims
from aircall_ext.core.numbering import AppliedPlan, breaches, parse_plan
from aircall_ext.core.planner import plan_import
from aircall_ext.core.renumber import ROW_COLUMNS, Renumbering, renumber
from aircall_ext.output import render_csv
from tests.numbering_scenes import Scene, applied_to, full_scenes, holdings, scenes

PLAN = parse_plan(
    'reserved = ["100", "911"]\ndefault = "100-199"\n'
    '[teams]\nSales = "200-202"\n"Customer Support" = ["300-301", "360-361"]\n',
    "plan.toml",
)


def user(user_id: int, extension: str | None, *, outgoing_only: bool | None = None) -> User:
    return User(
        id=user_id,
        email=f"u{user_id}@example.com",
        name=f"User {user_id}",
        extension=extension,
        outgoing_only=outgoing_only,
    )


def moves(result: Renumbering) -> dict[int, tuple[str | None, str]]:
    return {m.user.id: (m.from_ext, m.to_ext) for m in result.moves}


def run(users: list[User], teams: dict[str, list[int]]) -> Renumbering:
    return renumber(AppliedPlan(PLAN, teams.items()), Account.of(users))


def test_users_who_keep_to_the_plan_stay_and_the_others_move_lowest_first() -> None:
    result = run(
        [
            user(1, "200"),  # Sales, in range: stays
            user(2, "150"),  # Sales, out of range
            user(3, None),  # no team, no extension
            user(4, "911"),  # no team, reserved
            user(5, "120"),  # no team, in the default range: stays
        ],
        {"Sales": [1, 2]},
    )
    assert moves(result) == {2: ("150", "201"), 3: (None, "101"), 4: ("911", "102")}
    assert [m.breach for m in result.moves] == ["missing", "reserved", "out-of-range"]
    assert result.unplaced == ()


def test_rows_are_the_import_format_ordered_by_new_extension() -> None:
    result = run([user(1, "150"), user(2, None)], {"Sales": [1]})
    assert ROW_COLUMNS.keys == ["user_id", "email", "name", "extension"]
    assert result.rows() == [
        {"user_id": 2, "email": "u2@example.com", "name": "User 2", "extension": "101"},
        {"user_id": 1, "email": "u1@example.com", "name": "User 1", "extension": "200"},
    ]


def test_of_a_shared_extension_the_lowest_id_that_may_hold_it_keeps_it() -> None:
    result = run(
        [user(9, "201"), user(4, "201"), user(2, "201")],  # 2 is not in Sales
        {"Sales": [9, 4]},
    )
    assert moves(result) == {2: ("201", "101"), 9: ("201", "200")}


def test_a_damaged_value_gets_the_extension_it_stands_for_back_when_allowed() -> None:
    result = run([user(1, "201.0"), user(2, None), user(4, "42")], {"Sales": [1, 2]})
    # 2 may not have 201 while "201.0" claims it; 4's "42" stands for 042, outside the
    # default range: placed as usual.
    assert moves(result) == {1: ("201.0", "201"), 2: (None, "200"), 4: ("42", "101")}


def test_two_claimants_of_one_extension_are_placed_until_one_is_left() -> None:
    result = run(
        [user(1, "201.0"), user(2, None), user(3, "2.01E+02")],
        {"Sales": [1, 2, 3]},
    )
    # Round 1: nobody may have 201 (two values claim it): 1 gets 200, 2 gets 202.
    # Round 2: 3 is the one claimant left and gets its 201 back.
    assert moves(result) == {1: ("201.0", "200"), 2: (None, "202"), 3: ("2.01E+02", "201")}


def test_no_repair_while_another_claimant_stays() -> None:
    """Found by the property test: a repair next to an unplaceable claimant of the same
    extension left a claim the importer refuses to write past."""
    result = run(
        [user(1, "200"), user(2, "202"), user(3, "201.0"), user(4, "201.0")],
        {"Sales": [1, 2, 3, 4]},
    )
    assert moves(result) == {}
    assert [u.user.id for u in result.unplaced] == [3, 4]


def test_a_claim_keeps_others_off_while_its_holder_stays() -> None:
    outgoing = user(1, "20", outgoing_only=True)  # stands for 020; no team: default range
    result = run([outgoing, user(2, None)], {"Customer Support": [2]})
    assert moves(result) == {1: ("20", "101"), 2: (None, "300")}


def test_users_who_cannot_be_placed_are_named_with_their_team() -> None:
    result = run(
        [user(1, "200"), user(2, "201"), user(3, "202"), user(4, "150"), user(5, None)],
        {"Sales": [1, 2, 3, 4, 5]},
    )
    assert moves(result) == {}
    assert [u.message for u in result.unplaced] == [
        "user 4 (u4@example.com), in team Sales, holds 150, outside what they may use, "
        "and no extension of 200-202 is free",
        "user 5 (u5@example.com), in team Sales, has no extension, and no extension of "
        "200-202 is free",
    ]
    assert [u.teams for u in result.unplaced] == [("Sales",), ("Sales",)]


def test_unplaced_sharer_names_the_keeper() -> None:
    result = run(
        [user(1, "200"), user(2, "201"), user(3, "202"), user(4, "202")], {"Sales": [1, 2, 3, 4]}
    )
    assert [u.message for u in result.unplaced] == [
        "user 4 (u4@example.com), in team Sales, shares 202 with user 3, who keeps it, and no "
        "extension of 200-202 is free"
    ]


def test_unplaced_sharer_names_the_keeper_that_may_hold_it() -> None:
    """User 3 holds 202 too, outside what they may use: user 5 keeps it, not user 3."""
    result = run(
        [user(1, "200"), user(2, "201"), user(3, "202"), user(5, "202"), user(7, "202")],
        {"Sales": [1, 2, 5, 7]},
    )
    assert moves(result) == {3: ("202", "101")}
    assert [u.message for u in result.unplaced] == [
        "user 7 (u7@example.com), in team Sales, shares 202 with user 5, who keeps it, and no "
        "extension of 200-202 is free"
    ]


def test_what_a_mover_vacates_is_offered_in_the_next_round() -> None:
    """Support's range is full of Sales people: they move out, then Support moves in."""
    result = run(
        [user(1, "300"), user(2, "301"), user(3, "360"), user(4, "361"), user(5, "150")],
        {"Sales": [1, 2, 3, 4], "Customer Support": [5]},
    )
    assert moves(result) == {
        1: ("300", "200"),
        2: ("301", "201"),
        3: ("360", "202"),
        5: ("150", "300"),
    }
    assert result.rounds == 3  # a round that places nobody ends it
    assert [u.user.id for u in result.unplaced] == [4]


def test_fewest_allowed_extensions_are_placed_first() -> None:
    """A member of Sales and Support does not take Sales' last free extension."""
    result = run(
        [user(1, "200"), user(2, "201"), user(3, None), user(4, None)],
        {"Sales": [1, 2, 3, 4], "Customer Support": [3]},
    )
    assert moves(result) == {4: (None, "202"), 3: (None, "300")}


def test_a_swap_through_free_extensions_needs_no_cycle() -> None:
    """A swap the plan asks for, with room in both ranges: two moves onto free extensions."""
    account = Account.of([user(1, "300"), user(2, "200")])
    applied = AppliedPlan(PLAN, [("Sales", [1]), ("Customer Support", [2])])
    result = renumber(applied, account)
    assert moves(result) == {1: ("300", "201"), 2: ("200", "301")}
    assert result.swapped == 0
    plan = plan_import(account, rows_of(result))
    assert (plan.blocked, plan.cycles) == (False, 0)


def test_full_ranges_swap_their_misplaced_users() -> None:
    """Sales people fill Support's extensions and Support people Sales': only cycles can
    place them, and the importer breaks each through a parking extension."""
    users = [user(1, "300"), user(2, "301"), user(3, "200"), user(4, "201"), user(5, "202")]
    users += [user(6, "360"), user(7, "361")]
    account = Account.of(users)
    applied = AppliedPlan(PLAN, [("Sales", [1, 2, 6, 7]), ("Customer Support", [3, 4, 5])])
    result = renumber(applied, account)
    assert moves(result) == {
        1: ("300", "200"),
        3: ("200", "300"),
        2: ("301", "201"),
        4: ("201", "301"),
        6: ("360", "202"),
        5: ("202", "360"),
    }
    assert result.swapped == 6
    assert [u.user.id for u in result.unplaced] == [7]  # Sales has three extensions
    plan = plan_import(account, rows_of(result))
    assert (plan.blocked, plan.cycles) == (False, 3)


def test_a_rotation_of_three_teams() -> None:
    plan = parse_plan('[teams]\nA = "100-100"\nB = "200-200"\nC = "300-300"\n', "p.toml")
    account = Account.of([user(1, "200"), user(2, "300"), user(3, "100"), user(4, None)])
    applied = AppliedPlan(plan, [("A", [1]), ("B", [2]), ("C", [3])])
    result = renumber(applied, account)
    assert moves(result) == {
        1: ("200", "100"),
        2: ("300", "200"),
        3: ("100", "300"),
        4: (None, "101"),  # no default: anything outside the teams' ranges, lowest first
    }
    assert plan_import(account, rows_of(result)).cycles == 1


@pytest.mark.parametrize(
    ("reserved", "size"),
    [
        ("", 1000),  # every extension is held: nowhere to park
        ('reserved = ["999"]\n', 999),  # the one free extension is reserved: never parked on
    ],
)
def test_no_swap_without_an_extension_it_may_park_on(reserved: str, size: int) -> None:
    """Two full teams, every member in the other's range: only swaps would place them, and
    the importer parks only on a free extension the plan does not reserve, so no swap is
    proposed and every user is named instead."""
    plan = parse_plan(f'{reserved}[teams]\nA = "000-499"\nB = "500-{size - 1}"\n', "p.toml")
    users = [user(n + 1, f"{(n + 500) % size:03d}") for n in range(size)]  # all misplaced
    first_of_b = size - 499
    applied = AppliedPlan(plan, [("A", range(1, first_of_b)), ("B", range(first_of_b, size + 1))])
    result = renumber(applied, Account.of(users))
    assert result.moves == ()
    assert len(result.unplaced) == size


# -- properties on random accounts and plans ----------------------------------------------


@dataclass(frozen=True)
class Row:
    line: int
    user: User
    extension: str | None


def rows_of(result: Renumbering) -> list[Row]:
    return [Row(index + 2, m.user, m.to_ext) for index, m in enumerate(result.moves)]


def check_renumbering(scene: Scene) -> tuple[Account, Renumbering]:
    applied = scene.applied
    account = scene.account
    result = renumber(applied, account)
    judged = breaches(applied, account)
    moved = {m.user.id: m.to_ext for m in result.moves}
    unplaced = {u.user.id for u in result.unplaced}
    event(f"unplaced: {'some' if unplaced else 'none'}; rounds: {min(result.rounds, 3)}")

    # Exactly the users who break the plan move or are named; nobody else is touched.
    assert moved.keys() | unplaced == judged.keys()
    assert not moved.keys() & unplaced
    for name in {t for u in result.unplaced for t in u.teams}:
        assert any(name in u.message for u in result.unplaced)

    after = applied_to(account, moved)
    # Every placed user is in range, not reserved, alone on the extension, and not on one
    # a damaged value that stays stands for.
    claims = damaged_claims(after)
    for user_id, extension in moved.items():
        assert applied.may_hold(user_id, extension)
        assert extension not in applied.plan.reserved
        assert [u.id for u in after.holders(extension)] == [user_id]
        assert extension not in claims
    # No collision is new: any extension still shared is shared by users who did not move.
    for extension, count in Counter(u.extension for u in after.users).items():
        if extension is not None and count > 1:
            assert not {u.id for u in after.holders(extension)} & moved.keys()
    # Nothing left that an unplaced user could have had.
    taken = {u.extension for u in after.users} | set(claims) | applied.plan.reserved
    for unplaced_user in result.unplaced:
        assert set(applied.allowance_for(unplaced_user.user.id).order) <= taken
    return after, result


@settings(max_examples=60)
@given(scenes())
def test_renumbering_random_accounts(scene: Scene) -> None:
    after, result = check_renumbering(scene)
    # Idempotent: renumbering the result moves nobody and names the same users.
    again = renumber(scene.applied, after)
    assert again.moves == ()
    assert [u.user.id for u in again.unplaced] == [u.user.id for u in result.unplaced]
    # Deterministic whatever order the API lists users in.
    shuffled = Account.of(sorted(scene.account.users, key=lambda u: (u.extension or "", -u.id)))
    assert renumber(scene.applied, shuffled) == result


@settings(max_examples=40)
@given(scenes(max_users=400))
def test_the_renumbering_csv_imports_without_a_block(scene: Scene) -> None:
    """What `renumber > moves.csv && import moves.csv` does, in memory: the CSV reads back
    without an error, the planner orders it (parking only for swaps), no write collides."""
    result = renumber(scene.applied, scene.account)
    if not result.moves:
        return  # a header alone is refused by import (no-rows): the command's concern
    data = render_csv(result.rows(), ROW_COLUMNS).encode()
    state = check_desired(read_extension_csv(data, source="moves.csv"), scene.account)
    assert not state.has_errors, [f.message for f in state.findings if f.severity == "error"]
    # As `import` plans it with the plan in effect: never parking on a reserved extension.
    plan = plan_import(scene.account, state.rows, never_park=scene.plan.reserved)
    assert not plan.blocked
    assert plan.cycles <= result.swapped // 2
    assert not {s.to_ext for s in plan.steps if s.parking} & scene.plan.reserved
    current = holdings(scene.account.users)
    for step in plan.steps:
        assert current[step.user_id] == step.from_ext
        assert step.to_ext not in {e for uid, e in current.items() if uid != step.user_id}
        current[step.user_id] = step.to_ext
    assert current == holdings(applied_to(scene.account, result.desired()).users)


@settings(max_examples=60)
@given(full_scenes())
def test_full_ranges_of_misplaced_users_are_all_placed_by_swaps(scene: Scene) -> None:
    after, result = check_renumbering(scene)
    assert result.unplaced == ()
    assert renumber(scene.applied, after).moves == ()
    plan = plan_import(scene.account, rows_of(result))
    assert not plan.blocked
    current = holdings(scene.account.users)
    for step in plan.steps:
        assert step.to_ext not in {e for uid, e in current.items() if uid != step.user_id}
        current[step.user_id] = step.to_ext
    assert current == holdings(after.users)
