"""Checking a CSV's desired extensions against the account, before anything is written.

The file is judged as a whole: an extension held by someone is free for a row when the
file moves that holder elsewhere, so swaps and longer cycles are valid here (the planner
orders their writes); only holders the file leaves in place make an extension taken.

A collision already in the account is judged the same way: a row keeping (or wanting) an
extension that another holder keeps too is ``extension-taken``, because applying the file
would leave two users on it; a file that moves all but one holder away repairs it.
``outgoing-only`` is warned only for rows that change the extension: an unchanged dead
extension is the account audit's finding, not the file's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.csvfile import CsvFile, CsvRow
from aircall_ext.core.dialterms import DEAD_EXTENSION
from aircall_ext.core.findings import Finding, failing, who
from aircall_ext.core.freeext import damaged_claims
from aircall_ext.core.rowrules import (
    DUPLICATE_EXTENSION,
    DUPLICATE_USER,
    TAKEN,
    repeated,
    repeated_extension,
    repeated_user,
    taken,
)


@dataclass(frozen=True)
class DesiredRow:
    line: int
    user: User
    extension: str | None  # None: blank cell, no change

    @property
    def is_change(self) -> bool:
        return self.extension is not None and self.extension != self.user.extension


@dataclass(frozen=True)
class DesiredState:
    """The rows the planner can act on, and every finding about the file.

    ``rows`` holds each resolved user once (first occurrence) with a valid or blank
    extension; rows that failed a check are left out, so any error finding means the
    state must not be applied.
    """

    rows: tuple[DesiredRow, ...]
    findings: tuple[Finding, ...]  # the CsvFile's findings first, then the account checks

    @property
    def has_errors(self) -> bool:
        return bool(failing(self.findings))


def check_desired(csv_file: CsvFile, account: Account) -> DesiredState:
    """Resolve each row to a user and report what would make the file unsafe to apply."""
    checker = _Checker(csv_file, account)
    resolved = [(row, user) for row in csv_file.rows if (user := checker.resolve(row))]
    kept, repeated_lines = checker.first_occurrences(resolved)
    checker.duplicate_extensions(row for row in csv_file.rows if row.line not in repeated_lines)
    desired = {user.id: row.extension for row, user in kept if row.extension is not None}
    for row, user in kept:
        if row.extension is not None:
            checker.target(row, user, row.extension, desired)
    rows = tuple(
        DesiredRow(row.line, user, row.extension) for row, user in kept if row.problem is None
    )
    return DesiredState(rows, csv_file.findings + tuple(checker.findings))


class _Checker:
    def __init__(self, csv_file: CsvFile, account: Account) -> None:
        self.csv_file = csv_file
        self.account = account
        self.claims = damaged_claims(account)
        self.findings: list[Finding] = []

    def report(self, code: str, row: CsvRow, column: str, message: str) -> None:
        self.findings.append(self.csv_file.finding(code, row, column, message))

    def resolve(self, row: CsvRow) -> User | None:
        """The user a row names, or None after reporting an unknown or contradictory identity."""
        by_id = self.account.user_by_id(row.user_id) if row.user_id is not None else None
        by_email = self.account.user_by_email(row.email) if row.email is not None else None
        if row.user_id is not None and by_id is None:
            also = f"; email {row.email} is {who(by_email)}" if by_email else ""
            self.report("unknown-user", row, "user_id", f"no user with id {row.user_id}{also}")
            return None
        if by_id is None:
            if by_email is None:
                self.report("unknown-user", row, "email", f"no user with email {row.email}")
            return by_email
        if row.email is not None and (by_email is None or by_email.id != by_id.id):
            actual = who(by_email) if by_email else "no user"
            self.report(
                "identity-mismatch",
                row,
                "email",
                f"user_id {by_id.id} is {who(by_id)}, but email {row.email} is {actual}",
            )
            return None
        return by_id

    def first_occurrences(
        self, resolved: list[tuple[CsvRow, User]]
    ) -> tuple[list[tuple[CsvRow, User]], set[int]]:
        """Keep each user's first row; report the others, naming the first line."""
        users = {row.line: user for row, user in resolved}
        later = list(repeated((row for row, _ in resolved), lambda row: users[row.line].id))
        for row, first_line in later:
            column = "user_id" if row.user_id is not None else "email"
            self.report(DUPLICATE_USER, row, column, repeated_user(users[row.line], first_line))
        lines = {row.line for row, _ in later}
        return [(row, user) for row, user in resolved if row.line not in lines], lines

    def duplicate_extensions(self, rows: Iterable[CsvRow]) -> None:
        """Two rows wanting one extension: reported on the later row, naming the first."""
        for row, first_line in repeated(rows, lambda row: row.extension):
            assert row.extension is not None
            message = repeated_extension(row.extension, first_line, row.line)
            self.report(DUPLICATE_EXTENSION, row, "extension", message)

    def target(self, row: CsvRow, user: User, extension: str, desired: Mapping[int, str]) -> None:
        """Is the wanted extension free once the file is applied? And is it any use?"""
        why = taken(self.account, self.claims, user, extension, desired)
        if why is not None:
            self.report(TAKEN, row, "extension", why)
        elif user.extension == extension:
            self.report(
                "no-change",
                row,
                "extension",
                f"{who(user)} already has extension {extension}: no change",
            )
        if user.outgoing_only and user.extension != extension:
            self.report(
                "outgoing-only",
                row,
                "extension",
                f"{who(user)} is outgoing-only: callers dialing {extension} will hear "
                f'"{DEAD_EXTENSION}"',
            )
