"""Checking a desired-state CSV: read the file, load the account, judge the file against it.

Shared by ``validate FILE``, ``diff`` and ``import`` so the three always agree on what a
file means and what is wrong with it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aircall_ext.core.account import Account
from aircall_ext.core.csvfile import CsvFile, read_extension_csv
from aircall_ext.core.desired import DesiredState, check_desired
from aircall_ext.core.findings import Finding, sort_findings
from aircall_ext.errors import UsageError

if TYPE_CHECKING:
    from aircall_ext.api.client import ApiClient


def read_csv_source(path: str | Path) -> CsvFile:
    """Read and parse FILE (``-`` is stdin); an unreadable file is a usage error (exit 2)."""
    if str(path) == "-":
        return read_extension_csv(sys.stdin.buffer.read(), source="-")
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise UsageError(f"cannot read {str(path)!r}: {reason}") from None
    return read_extension_csv(data, source=str(path))


def check_source(client: ApiClient, path: str | Path) -> tuple[DesiredState, Account]:
    """The file judged against the account, and the account it was judged against.

    A file without a usable row (bad header, empty) is reported without loading the
    account: the verdict cannot depend on it, and it saves a full listing.
    """
    from aircall_ext.services.users import load_account

    csv_file = read_csv_source(path)
    if not csv_file.rows:
        return DesiredState((), csv_file.findings), Account(())
    account = load_account(client)
    return check_desired(csv_file, account), account


def validate_file(client: ApiClient, path: str | Path) -> list[Finding]:
    """Every finding about FILE against the account, errors first then in file order."""
    state, _account = check_source(client, path)
    return sort_findings(state.findings)


@dataclass(frozen=True)
class Drift:
    line: int
    user_id: int
    email: str | None
    expected: str
    actual: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "user_id": self.user_id,
            "email": self.email,
            "expected": self.expected,
            "actual": self.actual,
        }


@dataclass(frozen=True)
class DriftReport:
    drift: tuple[Drift, ...]
    in_sync: int
    blank: int  # rows whose blank cell asks for nothing, so cannot drift
    findings: tuple[Finding, ...]  # errors and warnings about the file, sorted

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "drift": [d.to_json() for d in self.drift],
            "summary": {
                "drifted": len(self.drift),
                "in_sync": self.in_sync,
                "blank": self.blank,
            },
            "findings": [f.to_json() for f in self.findings],
        }


def diff_file(client: ApiClient, path: str | Path) -> DriftReport:
    """Where the account differs from FILE's non-blank cells.

    Blank cells and users absent from the file are not drift: a file may describe only
    part of the account. Rows that failed a check cannot be compared; the error findings
    (infos left out: every in-sync row would be a "no-change") say why.
    """
    state, _account = check_source(client, path)
    compared = [row for row in state.rows if row.extension is not None]
    drift = tuple(
        Drift(row.line, row.user.id, row.user.email, row.extension, row.user.extension)
        for row in compared
        if row.is_change and row.extension is not None
    )
    findings = tuple(f for f in sort_findings(state.findings) if f.severity != "info")
    return DriftReport(
        drift=drift,
        in_sync=len(compared) - len(drift),
        blank=len(state.rows) - len(compared),
        findings=findings,
    )
