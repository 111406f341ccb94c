"""check_desired: a CSV's wanted extensions judged against the account, as a whole file."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.csvfile import EXPORT_COLUMNS, export_rows, read_extension_csv
from aircall_ext.core.desired import DesiredState, check_desired
from aircall_ext.core.findings import Finding
from aircall_ext.core.planner import plan_import
from aircall_ext.output import render_csv


def user(user_id: int, extension: str | None, **extra: Any) -> User:
    return User(id=user_id, email=f"u{user_id}@example.com", extension=extension, **extra)


def check(text: str, *users: User) -> DesiredState:
    csv_file = read_extension_csv(text.encode(), source="team.csv")
    return check_desired(csv_file, Account.of(users))


def errors(state: DesiredState) -> list[tuple[str, int | None]]:
    return [(f.code, f.line) for f in state.findings if f.severity != "info"]


def only(state: DesiredState, code: str) -> Finding:
    found = [f for f in state.findings if f.code == code]
    assert len(found) == 1, state.findings
    return found[0]


ACCOUNT = (user(1, "101"), user(2, "102"), user(3, "103"), user(4, None), user(5, "105"))


# -- identity -------------------------------------------------------------------------


def test_rows_resolve_by_id_by_email_case_insensitively_or_both() -> None:
    state = check(
        "user_id,email,extension\n1,,201\n,U2@Example.COM,202\n3,u3@example.com,203\n",
        *ACCOUNT,
    )
    assert errors(state) == []
    assert [(r.line, r.user.id, r.extension, r.is_change) for r in state.rows] == [
        (2, 1, "201", True),
        (3, 2, "202", True),
        (4, 3, "203", True),
    ]


def test_unknown_user_by_id_names_the_column_and_the_user_the_email_would_match() -> None:
    state = check("email,user_id,extension\nu2@example.com,99,201\n", *ACCOUNT)
    finding = only(state, "unknown-user")
    assert (finding.line, finding.column, finding.user_id) == (2, 2, 99)
    assert finding.message.startswith("team.csv:2:2: no user with id 99")
    assert "user 2" in finding.message
    assert state.rows == ()


def test_unknown_user_by_email() -> None:
    finding = only(check("email,extension\nnobody@example.com,201\n", *ACCOUNT), "unknown-user")
    assert (finding.line, finding.column, finding.email) == (2, 1, "nobody@example.com")


@pytest.mark.parametrize(
    ("email", "named"), [("u2@example.com", "user 2"), ("ghost@example.com", "no user")]
)
def test_identity_mismatch_when_id_and_email_disagree(email: str, named: str) -> None:
    state = check(f"user_id,email,extension\n1,{email},201\n", *ACCOUNT)
    finding = only(state, "identity-mismatch")
    assert (finding.severity, finding.line, finding.column) == ("error", 2, 2)
    assert "user_id 1 is user 1 (u1@example.com)" in finding.message
    assert named in finding.message
    assert state.rows == ()


def test_duplicate_user_is_reported_on_the_second_row_naming_the_first() -> None:
    state = check("user_id,email,extension\n1,,201\n2,,202\n,U1@example.com,203\n", *ACCOUNT)
    finding = only(state, "duplicate-user-in-file")
    assert (finding.line, finding.column) == (4, 2)
    assert "already on line 2" in finding.message
    assert [r.user.id for r in state.rows] == [1, 2]


def test_same_row_twice_is_one_duplicate_user_not_also_a_duplicate_extension() -> None:
    state = check("user_id,extension\n1,201\n1,201\n", *ACCOUNT)
    assert errors(state) == [("duplicate-user-in-file", 3)]


# -- extensions -----------------------------------------------------------------------


def test_two_rows_wanting_one_extension_name_both_lines() -> None:
    state = check("user_id,extension\n1,201\n2,202\n3,201\n", *ACCOUNT)
    finding = only(state, "duplicate-extension-in-file")
    assert (finding.line, finding.column, finding.extension) == (4, 2, "201")
    assert "lines 2 and 4" in finding.message


def test_duplicate_extension_counts_rows_whose_user_is_unknown() -> None:
    state = check("user_id,extension\n1,201\n99,201\n", *ACCOUNT)
    assert sorted(errors(state)) == [("duplicate-extension-in-file", 3), ("unknown-user", 3)]


def test_extension_held_by_a_user_the_file_does_not_mention_is_taken() -> None:
    state = check("user_id,extension\n1,105\n", *ACCOUNT)
    finding = only(state, "extension-taken")
    assert (finding.line, finding.column, finding.extension) == (2, 2, "105")
    assert "user 5 (u5@example.com)" in finding.message


def test_holder_in_the_file_with_a_blank_cell_still_holds_it() -> None:
    state = check("user_id,extension\n1,105\n5,\n", *ACCOUNT)
    assert errors(state) == [("extension-taken", 2)]


def test_holder_moved_away_by_the_file_frees_the_extension_for_a_chain() -> None:
    # 1 takes 105 while 5 moves on to the free 200: a chain, ordered by the planner.
    state = check("user_id,extension\n1,105\n5,200\n", *ACCOUNT)
    assert errors(state) == []


@pytest.mark.parametrize(
    "rows",
    [
        ["1,102", "2,101"],  # swap
        ["1,102", "2,103", "3,101"],  # 3-cycle
        ["3,101", "1,102", "2,103", "4,201"],  # 3-cycle in another order, and an assignment
    ],
)
def test_swaps_and_cycles_are_not_taken(rows: list[str]) -> None:
    state = check("user_id,extension\n" + "\n".join(rows) + "\n", *ACCOUNT)
    assert errors(state) == []
    assert all(r.is_change for r in state.rows)


def test_account_collision_on_a_kept_extension_is_taken_not_no_change() -> None:
    collided = (user(1, "101"), user(2, "101"), user(3, "103"))
    finding = only(check("user_id,extension\n1,101\n", *collided), "extension-taken")
    assert "user 2" in finding.message and "collision in the account" in finding.message


def test_file_that_moves_one_holder_off_a_collision_resolves_it() -> None:
    collided = (user(1, "101"), user(2, "101"), user(3, "103"))
    state = check("user_id,extension\n1,101\n2,201\n", *collided)
    assert errors(state) == []
    assert only(state, "no-change").line == 2


def test_outgoing_only_user_given_an_extension_is_warned() -> None:
    state = check(
        "user_id,extension\n1,201\n2,102\n", user(1, "101", outgoing_only=True), user(2, "102")
    )
    finding = only(state, "outgoing-only")
    assert (finding.severity, finding.line, finding.column) == ("warning", 2, 2)
    assert "This extension does not exist" in finding.message


def test_outgoing_only_user_keeping_the_extension_is_not_warned_again() -> None:
    # The account audit already reports the dead extension; the file changes nothing.
    state = check("user_id,extension\n1,101\n", user(1, "101", outgoing_only=True))
    assert [f.code for f in state.findings] == ["no-change"]


def test_no_change_and_blank_rows_are_infos_and_stay_in_the_rows() -> None:
    state = check("user_id,extension\n1,101\n2,\n", *ACCOUNT)
    assert [(f.code, f.severity, f.line) for f in state.findings] == [
        ("blank-extension", "info", 3),
        ("no-change", "info", 2),
    ]
    assert [(r.user.id, r.extension, r.is_change) for r in state.rows] == [
        (1, "101", False),
        (2, None, False),
    ]


def test_rows_with_a_damaged_extension_are_checked_but_not_kept() -> None:
    state = check("user_id,extension\n1,7\n1,201\n99,101.0\n", *ACCOUNT)
    assert sorted(errors(state)) == [
        ("duplicate-user-in-file", 3),
        ("invalid-extension", 2),
        ("invalid-extension", 4),
        ("unknown-user", 4),
    ]
    assert state.rows == ()
    assert state.has_errors


def test_reader_findings_come_first() -> None:
    state = check("user_id,extension,team\n1,201,x\n", *ACCOUNT)
    assert [f.code for f in state.findings] == ["unknown-column"]
    assert not state.has_errors


# -- properties -----------------------------------------------------------------------

extension_pools = st.lists(
    st.integers(0, 999).map(lambda n: f"{n:03d}"), min_size=2, max_size=12, unique=True
)


@settings(max_examples=200)
@given(extension_pools, st.data())
def test_any_permutation_among_file_users_is_valid(pool: list[str], data: st.DataObject) -> None:
    """Users that only trade extensions among themselves never make one "taken"."""
    users = [user(i, ext) for i, ext in enumerate(pool, start=1)]
    movers = data.draw(st.lists(st.sampled_from(users), unique_by=lambda u: u.id, min_size=1))
    wanted = data.draw(st.permutations([u.extension for u in movers]))
    body = "".join(f"{u.id},{ext}\n" for u, ext in zip(movers, wanted, strict=True))
    state = check("user_id,extension\n" + body, *users)
    assert errors(state) == []
    assert sum(r.is_change for r in state.rows) == sum(
        u.extension != ext for u, ext in zip(movers, wanted, strict=True)
    )


@settings(max_examples=200)
@given(extension_pools, st.data())
def test_taking_an_extension_of_someone_left_in_place_is_always_taken(
    pool: list[str], data: st.DataObject
) -> None:
    users = [user(i, ext) for i, ext in enumerate(pool, start=1)]
    taker, holder = data.draw(st.permutations(users))[:2]
    state = check(f"user_id,extension\n{taker.id},{holder.extension}\n", *users)
    finding = only(state, "extension-taken")
    assert f"user {holder.id} " in finding.message


names = st.one_of(st.none(), st.text(max_size=12).filter(lambda n: "\r" not in n))
accounts = st.lists(
    st.tuples(st.one_of(st.none(), st.integers(0, 999)), names, st.booleans()),
    min_size=1,
    max_size=15,
).map(
    lambda specs: Account.of(
        User(
            id=i,
            email=f"{'-' if dash else ''}u{i}@example.com",
            name=name,
            extension=None if ext is None else f"{ext:03d}",
        )
        for i, (ext, name, dash) in enumerate(specs, start=1)
    )
)


@settings(max_examples=200)
@given(accounts)
def test_export_round_trip_plans_zero_changes(account: Account) -> None:
    """Export, read back, check and plan: not one write."""
    holders = [u.extension for u in account.users if u.extension]
    assume(len(holders) == len(set(holders)))  # a collision cannot round-trip cleanly
    text = render_csv(export_rows(account), EXPORT_COLUMNS)
    state = check_desired(read_extension_csv(text.encode(), source="x.csv"), account)
    assert {f.code for f in state.findings} <= {"no-change", "blank-extension"}
    assert len(state.rows) == len(account.users)
    assert not any(r.is_change for r in state.rows)
    plan = plan_import(account, state.rows)
    assert (plan.steps, plan.blocked) == ((), False)
    assert {row.action for row in plan.rows} <= {"unchanged", "skip"}


def test_export_sorts_like_list_and_keeps_users_without_extension() -> None:
    account = Account.of([user(3, None), user(2, "200"), user(1, "007")])
    assert [(r["user_id"], r["extension"]) for r in export_rows(account)] == [
        (1, "007"),
        (2, "200"),
        (3, None),
    ]


def test_an_extension_a_damaged_value_stands_for_is_taken_with_line_and_column() -> None:
    """User 6 holds "42" (a 042 that lost its zero): another row cannot have 042, unless the
    file moves user 6 too; giving 042 to user 6 is the repair."""
    damaged = (*ACCOUNT, user(6, "42"))
    state = check("user_id,extension\n1,042\n", *damaged)
    finding = only(state, "extension-taken")
    assert (finding.line, finding.column) == (2, 2)
    assert "claimed by user 6 (u6@example.com)" in finding.message
    assert "'42' is a damaged 042" in finding.message
    assert errors(check("user_id,extension\n1,042\n6,043\n", *damaged)) == []
    assert errors(check("user_id,extension\n6,042\n", *damaged)) == []


def test_many_holders_are_listed_ten_then_counted() -> None:
    crowd = [user(n, "150") for n in range(10, 40)]
    state = check("user_id,extension\n1,150\n", *ACCOUNT, *crowd)
    message = only(state, "extension-taken").message
    assert "and 20 more" in message
    assert message.count("@example.com") == 10
