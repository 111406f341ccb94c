"""Planning an undo from a journal's moves: what can go back now, and how."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.planner import Plan, plan_import
from aircall_ext.core.undo import Move, Wanted, desired_rows, reverse_rows, wanted, with_skipped


def account_of(holdings: Mapping[int, str | None]) -> Account:
    return Account.of(
        User(id=uid, email=f"u{uid}@example.com", extension=ext) for uid, ext in holdings.items()
    )


# A 3-cycle 1→102, 2→103, 3→101 broken by parking 1 on 100, as the import planner wrote it.
CYCLE_MOVES = [Move(1, "101", "102"), Move(3, "103", "101"), Move(2, "102", "103")]
AFTER_CYCLE = {1: "102", 2: "103", 3: "101", 9: "500"}


def plan_back(account: Account, rows: Sequence[Any]) -> Plan:
    """The undo's plan, as ``import --undo`` makes it: the rows moved back, planned, and
    the skipped rows added. Every reason to refuse a row was made a skip: never blocked."""
    plan = with_skipped(plan_import(account, desired_rows(wanted(rows), account)), rows)
    assert not plan.blocked, plan.findings
    return plan


def apply(holdings: Mapping[int, str | None], plan: Plan) -> dict[int, str | None]:
    state = dict(holdings)
    for step in plan.steps:
        assert state[step.user_id] == step.from_ext
        assert step.to_ext not in state.values(), f"{step} would share {step.to_ext}"
        state[step.user_id] = step.to_ext
    return state


def test_a_finished_cycle_goes_back_through_one_parking_write() -> None:
    account = account_of(AFTER_CYCLE)
    rows = reverse_rows(CYCLE_MOVES, account)
    assert [r.skipped for r in rows] == [None, None, None]
    plan = plan_back(account, rows)
    assert plan.cycles == 1 and len(plan.steps) == 4
    assert plan.parking == "100"  # the lowest free extension, as any import chooses
    assert apply(AFTER_CYCLE, plan) == {1: "101", 2: "102", 3: "103", 9: "500"}


def test_a_user_stranded_on_parking_goes_back_too() -> None:
    # Stopped after the parking write and one more: 1 sits on 100, 3 holds 101.
    now = {1: "100", 2: "102", 3: "101", 9: "500"}
    account = account_of(now)
    moves = [Move(1, "101", "100"), Move(3, "103", "101")]
    plan = plan_back(account, reverse_rows(moves, account))
    assert apply(now, plan) == {1: "101", 2: "102", 3: "103", 9: "500"}


def test_changed_gone_and_extensionless_users_are_skipped_with_their_reason() -> None:
    moves = [Move(1, "101", "111"), Move(2, "102", "112"), Move(3, None, "113"),
             Move(4, "104", "114")]  # fmt: skip
    account = account_of({1: "119", 3: "113", 4: "114"})  # 1 changed since, 2 gone
    rows = reverse_rows(moves, account)
    reasons = {r.user_id: r.skipped for r in rows}
    assert reasons[1] == "user 1 has 119 now, not 111 as the import left it"
    assert reasons[2] == "user 2 is no longer in the account"
    assert reasons[3] is not None and "cannot be removed through the API" in reasons[3]
    assert reasons[4] is None
    assert [r.line for r in rows] == [2, 3, 4, 5]
    assert wanted(rows) == (Wanted(5, 4, "104"),)


def test_a_row_is_skipped_when_a_changed_user_holds_its_old_extension() -> None:
    # 1 went 101→102 and 2 went 102→103; someone moved 1 on to 109 since, so 1 is skipped.
    # 2's way back to 102 is free again. 5 wants 109 back, held by the skipped user 1.
    moves = [Move(1, "101", "102"), Move(2, "102", "103"), Move(5, "109", "105")]
    account = account_of({1: "109", 2: "103", 3: "101", 5: "105"})
    reasons = {r.user_id: r.skipped for r in reverse_rows(moves, account)}
    assert reasons[1] is not None and "has 109 now" in reasons[1]
    assert reasons[2] is None
    assert reasons[5] == (
        "extension 109 is now held by user 1 (u1@example.com), whom the undo does not move"
    )


def test_holders_are_named_as_every_message_names_users() -> None:
    """Two newcomers share 101, one known by name only: each named like anywhere else."""
    account = Account.of(
        [
            User(id=1, email="u1@example.com", extension="102"),
            User(id=7, email="u7@example.com", extension="101"),
            User(id=8, name="Ann", extension="101"),
        ]
    )
    (row,) = reverse_rows([Move(1, "101", "102")], account)
    assert row.skipped == (
        "extension 101 is now held by user 7 (u7@example.com), user 8 (Ann), "
        "whom the undo does not move"
    )


def test_a_skip_that_keeps_an_extension_held_makes_the_next_row_skip_too() -> None:
    # 1: 101→102 and 2: 102→103 (a chain). 2's old 102 is held by 1, who would move back to
    # 101; but 101 is taken by a newcomer 7, so 1 stays, so 2 cannot go back either.
    moves = [Move(1, "101", "102"), Move(2, "102", "103")]
    account = account_of({1: "102", 2: "103", 7: "101"})
    rows = reverse_rows(moves, account)
    assert rows[0].skipped is not None and "held by user 7" in rows[0].skipped
    assert rows[1].skipped is not None and "held by user 1" in rows[1].skipped


def test_a_user_already_back_is_unchanged_not_skipped() -> None:
    account = account_of({1: "101", 2: "103"})
    rows = reverse_rows([Move(1, "101", "102"), Move(2, "102", "103")], account)
    assert [r.skipped for r in rows] == [None, None]
    plan = plan_back(account, rows)
    assert [r.action for r in plan.rows] == ["unchanged", "change"]


def test_skipped_rows_are_in_the_plan_with_a_warning_and_nothing_to_write() -> None:
    account = account_of({1: "119", 2: "103"})
    rows = reverse_rows([Move(1, "101", "111"), Move(2, "102", "103")], account)
    plan = plan_back(account, rows)
    assert [(r.line, r.user_id, r.from_ext, r.to_ext, r.action) for r in plan.rows] == [
        (2, 1, "119", None, "skip"),
        (3, 2, "103", "102", "change"),
    ]
    assert [(f.code, f.severity, f.line) for f in plan.findings] == [("undo-skipped", "warning", 2)]
    assert not plan.blocked
    assert plan.desired() == {2: "102"}  # a skipped row is never verified against a target


def test_a_damaged_value_the_import_repaired_is_not_restored_and_the_rest_goes_back() -> None:
    # The import repaired 1's "42" to 042 and moved 2 from 101 to 150.
    account = account_of({1: "042", 2: "150"})
    rows = reverse_rows([Move(1, "42", "042"), Move(2, "101", "150")], account)
    assert rows[0].skipped == (
        "user 1 had the damaged value '42' before the import, which repaired it: "
        "a damaged value is not restored"
    )
    assert rows[1].skipped is None
    assert wanted(rows) == (Wanted(3, 2, "101"),)
    plan = plan_back(account, rows)
    assert apply({1: "042", 2: "150"}, plan) == {1: "042", 2: "101"}


def test_an_old_extension_a_damaged_value_now_claims_is_skipped_not_an_error() -> None:
    # The import moved 1 off 042; 3 holds "42" now (a damaged 042) and is not moved back.
    account = account_of({1: "150", 3: "42"})
    (row,) = reverse_rows([Move(1, "042", "150")], account)
    assert row.skipped == (
        "extension 042 is claimed by user 3 (u3@example.com), whose extension '42' is a "
        "damaged 042, whom the undo does not move"
    )
    assert wanted([row]) == ()
