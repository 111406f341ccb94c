"""What ``validate`` says about a numbering plan: the account's extensions, a file's targets,
and a file checked offline (no account: only what the file and the plan themselves show).

The format, collision and identity checks stay where they are (the audit, the CSV check):
these add the plan's findings, all warnings, since an account that breaks its plan still
works (``--strict`` makes them fail).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.csvfile import CsvFile
from aircall_ext.core.csvtable import location
from aircall_ext.core.findings import Finding, listed, plural, sort_findings, who
from aircall_ext.core.freeext import occupied
from aircall_ext.core.numbering import Allowance, AppliedPlan, NumberingPlan, breaches
from aircall_ext.core.rowrules import (
    DUPLICATE_EXTENSION,
    DUPLICATE_USER,
    TargetRow,
    repeated,
    repeated_extension,
)


def plan_findings(applied: AppliedPlan, account: Account) -> list[Finding]:
    """``validate`` with a plan: users outside their ranges or on reserved extensions,
    plan teams the account lacks, and ranges with no free extension left."""
    found = [
        *_holders(applied, account),
        *_unknown_teams(applied),
        *_full_ranges(applied.plan, account),
    ]
    return sort_findings(found)


def target_findings(
    applied: AppliedPlan, rows: Iterable[TargetRow], *, source: str, column: int | None
) -> list[Finding]:
    """``validate FILE`` with a plan: each row's wanted extension judged as if held.

    ``column``: the extension column's position (``CsvFile.columns["extension"]``)."""
    found = []
    for row in rows:
        extension = row.extension
        if extension is None:
            continue
        where = location(source, row.line, column)
        user = row.user
        if extension in applied.plan.reserved:
            message = f"{where}: extension {extension} is reserved by the plan: {_to_whom(user)}"
            found.append(_row_finding("reserved-extension", row, column, message))
        elif not applied.may_hold(user.id, extension):
            allowance = applied.allowance_for(user.id)
            message = (
                f"{where}: {who(user)}, in {allowance.who}, would hold {extension}, "
                f"{_outside(allowance)}"
            )
            found.append(_row_finding("out-of-range", row, column, message))
    return sort_findings(found)


def offline_findings(csv_file: CsvFile, plan: NumberingPlan | None) -> list[Finding]:
    """``validate FILE --offline``: what can be said without the account.

    The file's own findings (format, header, damaged cells), a user or an extension named
    twice in it, and with a plan: reserved targets, and targets outside every range of the
    plan when it has a default (without the account, a user's teams are unknown, so only an
    extension nobody at all may hold is out of range)."""
    repeated, found = _repeated_users(csv_file)
    found += _repeated_extensions(csv_file, repeated)
    if plan is not None:
        found += _offline_targets(csv_file, plan)
    return sort_findings([*csv_file.findings, *found])


# -- the account ------------------------------------------------------------------------


def _holders(applied: AppliedPlan, account: Account) -> Iterator[Finding]:
    """Reserved and out-of-range holders; other breaches are the audit's findings."""
    judged = breaches(applied, account)
    for user in account.users:
        breach = judged.get(user.id)
        extension = user.extension
        if breach == "reserved":
            message = f"{who(user)} holds {extension}, which the plan reserves"
            yield Finding.about("reserved-extension", user, message)
        elif breach == "out-of-range":
            allowance = applied.allowance_for(user.id)
            message = f"{who(user)}, in {allowance.who}, holds {extension}, {_outside(allowance)}"
            yield Finding.about("out-of-range", user, message)


def _unknown_teams(applied: AppliedPlan) -> Iterator[Finding]:
    plan = applied.plan
    for team in plan.teams:
        if team in applied.account_teams:
            continue
        close = difflib.get_close_matches(team, sorted(applied.account_teams), n=1)
        also = f"; did you mean {close[0]!r}?" if close else ""
        yield Finding(
            "unknown-team",
            f"{plan.source}:{plan.team_lines.get(team, 0)}: the plan names team {team!r}, "
            f"which the account does not have (names must match exactly){also}",
        )


def _full_ranges(plan: NumberingPlan, account: Account) -> Iterator[Finding]:
    taken = occupied(account)
    owners: list[tuple[str | None, Allowance]] = [(t, plan.allowance((t,))) for t in plan.teams]
    if plan.default is not None:
        owners.append((None, plan.allowance(())))
    for team, allowance in owners:
        if any(e not in taken for e in allowance.order):
            continue
        owner = f"team {team}" if team is not None else "users in no team of the plan"
        why = (
            f"all {len(allowance.order)} are taken, reserved ones aside"
            if allowance.order
            else "every one is reserved"
        )
        yield Finding(
            "range-full",
            f"no free extension left for {owner} in {allowance.ranges_text}: {why}",
        )


def _outside(allowance: Allowance) -> str:
    """``outside its ranges 200-299``; ``outside the default range 100-199``."""
    if not allowance.teams:
        return f"outside {allowance.ranges_text}"
    whose = "its" if len(allowance.teams) == 1 else "their"
    ranges = plural(len(allowance.ranges or ()), "range", counted=False)
    return f"outside {whose} {ranges} {allowance.ranges_text}"


# -- a file against the account -----------------------------------------------------------


def _to_whom(user: User) -> str:
    return f"{who(user)} cannot be given it"


def _row_finding(code: str, row: TargetRow, column: int | None, message: str) -> Finding:
    return Finding(
        code,
        message,
        user_id=row.user.id,
        email=row.user.email,
        extension=row.extension,
        line=row.line,
        column=column,
    )


# -- a file alone -----------------------------------------------------------------------


def _repeated_users(csv_file: CsvFile) -> tuple[set[int], list[Finding]]:
    """Rows naming a user id or an email an earlier row names (emails case-insensitively):
    the lines of the repeats, and a finding on each naming the first line."""
    first_id: dict[int, int] = {}
    first_email: dict[str, int] = {}
    repeated: set[int] = set()
    found: list[Finding] = []
    for row in csv_file.rows:
        email = row.email.casefold() if row.email else None
        if row.user_id is not None and row.user_id in first_id:
            message = f"user_id {row.user_id} is already on line {first_id[row.user_id]}"
            found.append(csv_file.finding(DUPLICATE_USER, row, "user_id", message))
            repeated.add(row.line)
        elif email is not None and email in first_email:
            message = f"email {row.email} is already on line {first_email[email]}"
            found.append(csv_file.finding(DUPLICATE_USER, row, "email", message))
            repeated.add(row.line)
        else:
            if row.user_id is not None:
                first_id[row.user_id] = row.line
            if email is not None:
                first_email.setdefault(email, row.line)
    return repeated, found


def _repeated_extensions(csv_file: CsvFile, skip: set[int]) -> list[Finding]:
    """Two rows wanting one extension: reported on the later row (repeated users aside)."""
    rows = (row for row in csv_file.rows if row.line not in skip)
    found = []
    for row, first_line in repeated(rows, lambda row: row.extension):
        assert row.extension is not None
        message = repeated_extension(row.extension, first_line, row.line)
        found.append(csv_file.finding(DUPLICATE_EXTENSION, row, "extension", message))
    return found


def _offline_targets(csv_file: CsvFile, plan: NumberingPlan) -> list[Finding]:
    ranges = plan.ranges()
    found = []
    for row in csv_file.rows:
        extension = row.extension
        if extension is None:
            continue
        if extension in plan.reserved:
            message = f"extension {extension} is reserved by the plan {plan.source}"
            found.append(csv_file.finding("reserved-extension", row, "extension", message))
        elif plan.default is not None and not any(extension in r for r in ranges):
            planned = listed(f"{r.range} ({r.team or 'default'})" for r in ranges)
            message = f"extension {extension} is in no range of the plan {plan.source}: {planned}"
            found.append(csv_file.finding("out-of-range", row, "extension", message))
    return found
