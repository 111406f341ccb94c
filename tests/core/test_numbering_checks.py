"""validate with a plan: the account, a file's targets, and a file checked offline."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.audit import audit_account
from aircall_ext.core.csvfile import read_extension_csv
from aircall_ext.core.desired import check_desired
from aircall_ext.core.findings import SEVERITY, Finding
from aircall_ext.core.numbering import AppliedPlan, parse_plan
from aircall_ext.core.numbering_checks import offline_findings, plan_findings, target_findings

PLAN = parse_plan(
    'reserved = ["100", "911"]\ndefault = "100-199"\n\n[teams]\nSales = "200-201"\n'
    '"Customer Support" = ["300-349", "360-399"]\nNight = "500-599"\n',
    "plan.toml",
)
TEAMS = [("Sales", [1, 2, 3]), ("Customer Support", [3, 4]), ("Unplanned", [5])]


def user(user_id: int, extension: str | None) -> User:
    return User(id=user_id, email=f"u{user_id}@example.com", extension=extension)


def brief(findings: list[Finding]) -> list[tuple[str, int | None, str]]:
    return [(f.code, f.user_id, f.message) for f in findings]


def test_the_new_codes_are_warnings() -> None:
    for code in ("out-of-range", "reserved-extension", "unknown-team", "range-full"):
        assert SEVERITY[code] == "warning"


def test_account_findings_name_the_user_their_teams_and_ranges() -> None:
    account = Account.of(
        [
            user(1, "200"),
            user(2, "201"),  # Sales is full now: 200-201
            user(3, "150"),  # Sales and Support, outside both
            user(4, "911"),  # reserved
            user(5, "250"),  # no plan team: the default range
            user(6, "42"),  # damaged: the audit's finding, not the plan's
            user(7, None),  # missing: the audit's finding
        ]
    )
    findings = plan_findings(AppliedPlan(PLAN, TEAMS), account)
    assert brief(findings) == [
        (
            "range-full",
            None,
            "no free extension left for team Sales in 200-201: all 2 are taken, reserved "
            "ones aside",
        ),
        (
            "unknown-team",
            None,
            "plan.toml:7: the plan names team 'Night', which the account does not have "
            "(names must match exactly)",
        ),
        (
            "out-of-range",
            3,
            "user 3 (u3@example.com), in teams Sales, Customer Support, holds 150, outside "
            "their ranges 200-201, 300-349, 360-399",
        ),
        (
            "out-of-range",
            5,
            "user 5 (u5@example.com), in no team of the plan, holds 250, outside the default "
            "range 100-199",
        ),
        ("reserved-extension", 4, "user 4 (u4@example.com) holds 911, which the plan reserves"),
    ]
    assert findings[2].extension == "150"


def test_unknown_team_suggests_a_close_account_team() -> None:
    findings = plan_findings(
        AppliedPlan(PLAN, [("sales", []), ("Customer Support", [])]), Account(())
    )
    unknown = [f.message for f in findings if f.code == "unknown-team"]
    assert unknown[0].endswith("(names must match exactly); did you mean 'sales'?")


def test_a_range_of_only_reserved_extensions_is_full() -> None:
    plan = parse_plan('reserved = ["900"]\n[teams]\nDesk = "900-900"\n', "p.toml")
    findings = plan_findings(AppliedPlan(plan, [("Desk", [])]), Account(()))
    assert [f.message for f in findings] == [
        "no free extension left for team Desk in 900-900: every one is reserved"
    ]


def test_a_damaged_claim_fills_a_range() -> None:
    plan = parse_plan('default = "007-007"\n', "p.toml")
    findings = plan_findings(AppliedPlan(plan, []), Account.of([user(1, "7")]))
    assert [f.code for f in findings] == ["range-full"]


def test_damaged_missing_and_shared_are_left_to_the_audit() -> None:
    account = Account.of([user(1, "200"), user(2, "200"), user(6, None), user(7, "7")])
    applied = AppliedPlan(PLAN, [("Sales", [1, 2, 6, 7])])
    assert {f.user_id for f in plan_findings(applied, account)} == {None}
    assert {f.code for f in audit_account(account)} >= {
        "duplicate-extension",
        "missing-extension",
        "invalid-extension",
    }


CSV = b"user_id,email,extension\n1,u1@example.com,150\n4,u4@example.com,911\n5,,120\n2,,201\n"


def test_a_files_targets_are_judged_like_held_extensions() -> None:
    account = Account.of([user(1, "200"), user(2, "201"), user(4, "300"), user(5, None)])
    csv_file = read_extension_csv(CSV, source="moves.csv")
    state = check_desired(csv_file, account)
    findings = target_findings(
        AppliedPlan(PLAN, TEAMS),
        state.rows,
        source="moves.csv",
        column=csv_file.columns["extension"],
    )
    assert [(f.code, f.line, f.column, f.message) for f in findings] == [
        (
            "out-of-range",
            2,
            3,
            "moves.csv:2:3: user 1 (u1@example.com), in team Sales, would hold 150, outside "
            "its range 200-201",
        ),
        (
            "reserved-extension",
            3,
            3,
            "moves.csv:3:3: extension 911 is reserved by the plan: user 4 (u4@example.com) "
            "cannot be given it",
        ),
    ]


OFFLINE = (
    b"user_id,email,extension\n"
    b"1,a@example.com,911\n"
    b"2,b@example.com,150\n"
    b"3,c@example.com,950\n"
    b"1,x@example.com,120\n"  # user 1 again
    b"4,B@Example.com,121\n"  # b@ again, by email
    b"5,e@example.com,150\n"  # 150 again
    b"6,f@example.com,7\n"  # damaged: the CSV reader's finding
)


def test_offline_checks_what_the_file_and_plan_show() -> None:
    findings = offline_findings(read_extension_csv(OFFLINE, source="users.csv"), PLAN)
    assert [(f.code, f.line, f.column) for f in findings] == [
        ("duplicate-user-in-file", 5, 1),
        ("duplicate-user-in-file", 6, 2),
        ("duplicate-extension-in-file", 7, 3),
        ("invalid-extension", 8, 3),
        ("reserved-extension", 2, 3),
        ("out-of-range", 4, 3),
    ]
    messages = [f.message for f in findings]
    assert messages[0] == "users.csv:5:1: user_id 1 is already on line 2"
    assert messages[1] == "users.csv:6:2: email B@Example.com is already on line 3"
    assert messages[2] == "users.csv:7:3: extension 150 is wanted on lines 3 and 7"
    assert messages[4] == "users.csv:2:3: extension 911 is reserved by the plan plan.toml"
    assert messages[5] == (
        "users.csv:4:3: extension 950 is in no range of the plan plan.toml: 100-199 (default), "
        "200-201 (Sales), 300-349 (Customer Support), 360-399 (Customer Support), 500-599 "
        "(Night)"
    )


def test_offline_without_a_default_cannot_call_anything_out_of_range() -> None:
    plan = parse_plan('[teams]\nSales = "200-299"\n', "p.toml")
    findings = offline_findings(read_extension_csv(OFFLINE, source="users.csv"), plan)
    assert "out-of-range" not in {f.code for f in findings}


def test_offline_without_a_plan_is_the_files_own_checks() -> None:
    findings = offline_findings(read_extension_csv(OFFLINE, source="users.csv"), None)
    assert {f.code for f in findings} == {
        "duplicate-user-in-file",
        "duplicate-extension-in-file",
        "invalid-extension",
    }


def test_offline_agrees_with_the_account_check_on_repeated_extensions() -> None:
    """Same rows flagged as the online check flags, when ids and emails are consistent."""
    data = b"user_id,extension\n1,201\n2,201\n1,202\n3,202\n"
    csv_file = read_extension_csv(data, source="f.csv")
    account = Account.of([user(1, None), user(2, None), user(3, None)])
    online = {
        (f.code, f.line)
        for f in check_desired(csv_file, account).findings
        if f.code.startswith("duplicate")
    }
    offline = {(f.code, f.line) for f in offline_findings(csv_file, None)}
    assert offline == online


@given(st.binary(max_size=300))
def test_offline_never_raises(data: bytes) -> None:
    offline_findings(read_extension_csv(data, source="f.csv"), PLAN)
