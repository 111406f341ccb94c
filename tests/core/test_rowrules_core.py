"""The file's rules are written once: the CSV check and the planner's re-check (which runs
on a fresh read, without the file check) find the same problems, with the same codes and
words."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.csvfile import read_extension_csv
from aircall_ext.core.desired import check_desired
from aircall_ext.core.findings import Finding
from aircall_ext.core.planner import plan_import

RULES = {"duplicate-user-in-file", "duplicate-extension-in-file", "extension-taken"}


@dataclass(frozen=True)
class Row:
    line: int
    user: User
    extension: str | None


def user(user_id: int, extension: str | None) -> User:
    return User(id=user_id, email=f"u{user_id}@example.com", extension=extension)


def said(findings: tuple[Finding, ...]) -> set[tuple[str, int | None, str]]:
    """(code, line, message without its location) of each finding of the shared rules."""
    return {(f.code, f.line, f.message.split(": ", 1)[1]) for f in findings if f.code in RULES}


CASES = {
    # 1 keeps 101, which 3 (not in the file) holds too: the file would leave the collision.
    "a row keeping a collision": ([user(1, "101"), user(2, "102"), user(3, "101")], "1,101\n"),
    "an extension wanted twice": ([user(1, "101"), user(2, "102")], "1,105\n2,105\n"),
    "a user named twice": ([user(1, "101"), user(2, "102")], "1,105\n1,106\n"),
    "a holder the file leaves": ([user(1, "101"), user(2, "102")], "1,102\n"),
    "a damaged value's extension": ([user(1, "101"), user(2, "42")], "1,042\n"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_csv_check_and_the_planners_recheck_find_the_same_problems(name: str) -> None:
    users, body = CASES[name]
    account = Account.of(users)
    csv_file = read_extension_csv(f"user_id,extension\n{body}".encode(), source="f.csv")
    checked = check_desired(csv_file, account)
    unchecked = [Row(r.line, users[(r.user_id or 0) - 1], r.extension) for r in csv_file.rows]
    plan = plan_import(account, unchecked)
    assert said(checked.findings)  # every case breaks a rule
    assert said(plan.findings) == said(checked.findings)
    assert plan.blocked and plan.steps == ()


def test_a_row_keeping_a_collision_is_refused_by_both_in_the_same_words() -> None:
    account = Account.of([user(1, "101"), user(2, "101")])
    plan = plan_import(account, [Row(2, account.users[0], "101")])
    (finding,) = plan.findings
    assert (finding.code, finding.message) == (
        "extension-taken",
        "line 2: extension 101 is held by user 2 (u2@example.com), whom the file does not "
        "move away (a collision in the account)",
    )
