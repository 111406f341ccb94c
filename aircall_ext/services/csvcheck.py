"""Reading a desired-state CSV and judging it against the account.

The one pipeline of ``validate FILE``, ``diff`` and ``import`` (FILE, ``--resume``, ``--plan``),
so they always agree on what a file means and what is wrong with it: the file
is read once (its bytes are what a journal or a saved plan vouches for), parsed, and
checked against the account, which is not even read for a file without a usable row.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aircall_ext.api.client import ApiClient
from aircall_ext.core.account import Account
from aircall_ext.core.csvfile import CsvFile, read_extension_csv
from aircall_ext.core.desired import DesiredState, check_desired
from aircall_ext.core.findings import Finding, failing, sort_findings
from aircall_ext.core.planner import RowChange
from aircall_ext.errors import UsageError
from aircall_ext.files import rereadable, sha256_hex
from aircall_ext.services.users import load_account


@dataclass(frozen=True)
class Source:
    """The CSV as read once: its bytes are what a journal's sha256 vouches for."""

    path: str  # absolute path, or "-" for standard input
    shown: str  # how messages name it
    data: bytes = field(repr=False)
    # The bytes cannot be read at ``path`` again (standard input, a pipe, a device, the copy
    # a saved plan carries): a journal keeps them beside itself for ``--resume``.
    stream: bool = False
    plan: str | None = None  # the saved plan (absolute path) that carried the bytes

    @property
    def sha256(self) -> str:
        return sha256_hex(self.data)

    def parse(self) -> CsvFile:
        return read_extension_csv(self.data, source=self.shown)


def read_source(path: str | Path) -> Source:
    """Read FILE (``-`` is standard input); an unreadable file is a usage error (exit 2)."""
    if str(path) == "-":
        return Source("-", "-", sys.stdin.buffer.read(), stream=True)
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from None
    return Source(str(Path(path).absolute()), str(path), data, stream=not rereadable(str(path)))


@dataclass(frozen=True)
class Checked:
    """The file judged against the account, and the account it was judged against."""

    source: Source
    csv_file: CsvFile
    account: Account
    desired: DesiredState


def account_for(client: ApiClient, csv_file: CsvFile) -> Account:
    """The account to judge ``csv_file`` against (⌈U/50⌉ requests). A file without a usable
    row (bad header, empty) is judged without it: the verdict cannot depend on it, and
    nothing can be planned from it, so it saves a full listing."""
    return load_account(client) if csv_file.rows else Account(())


def check_source(client: ApiClient, source: Source) -> Checked:
    """Read the account (see :func:`account_for`) and judge ``source`` against it."""
    csv_file = source.parse()
    account = account_for(client, csv_file)
    return Checked(source, csv_file, account, check_desired(csv_file, account))


def validate_file(client: ApiClient, path: str | Path) -> list[Finding]:
    """Every finding about FILE against the account, errors first then in file order."""
    checked = check_source(client, read_source(path))
    return sort_findings(checked.desired.findings)


@dataclass(frozen=True)
class Drift(RowChange):
    """A row whose user holds ``from_ext`` where the file expects ``to_ext``."""

    user_id: int

    def to_json(self) -> dict[str, Any]:
        """diff's document names the pair by what the file expects and what the account
        has, in that order."""
        doc = super().to_json()
        doc["expected"] = doc.pop("to")
        doc["actual"] = doc.pop("from")
        return doc


@dataclass(frozen=True)
class DriftReport:
    drift: tuple[Drift, ...]
    in_sync: int
    blank: int  # rows whose blank cell asks for nothing, so cannot drift
    findings: tuple[Finding, ...]  # errors and warnings about the file, sorted

    @property
    def has_errors(self) -> bool:
        return bool(failing(self.findings))

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
    state = check_source(client, read_source(path)).desired
    compared = [row for row in state.rows if row.extension is not None]
    drift = tuple(
        Drift(row.line, row.user.id, row.user.email, row.user.extension, row.extension)
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
