"""What an import job decides before its first write: where its desired state comes from,
the account it was judged against, the findings, and the plan.

The desired state comes from a CSV (a file, standard input, the copy a saved plan carries)
or from an undo (each user a journal moved, back where it found them). Both are judged the
same way against any read of the account, which the apply loop does again when a refused
write makes it plan the rest from a fresh read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from aircall_ext.core.account import Account
from aircall_ext.core.csvfile import CsvFile, CsvRow
from aircall_ext.core.desired import DesiredState, check_desired
from aircall_ext.core.findings import Finding, failing, sort_findings
from aircall_ext.core.planner import Plan, plan_import
from aircall_ext.core.undo import Wanted, desired_rows
from aircall_ext.services.csvcheck import Source
from aircall_ext.services.importjob.results import RowResult, applied_results, planned_results


@dataclass(frozen=True)
class CsvInput:
    """A desired-state CSV, read once: its bytes are what a journal or a plan vouches for."""

    source: Source

    @cached_property
    def csv_file(self) -> CsvFile:
        return self.source.parse()

    @property
    def name(self) -> str:
        """What a default journal name is made from."""
        return self.source.shown

    @property
    def shown(self) -> str:
        return self.source.shown

    def desired(self, account: Account) -> DesiredState:
        return check_desired(self.csv_file, account)

    def resolved(self, account: Account) -> dict[int, int]:
        """Line → the user each row names on ``account``."""
        return {row.line: row.user.id for row in self.desired(account).rows}

    def rejected(self, findings: Iterable[Finding], account: Account) -> tuple[RowResult, ...]:
        """Every row of a file that will not be imported, with the errors of its line."""
        errors: dict[int, list[str]] = {}
        for finding in findings:
            if finding.line is not None and finding.severity != "info":
                errors.setdefault(finding.line, []).append(finding.message)
        return tuple(
            _rejected(row, account, errors.get(row.line, [])) for row in self.csv_file.rows
        )


def _rejected(row: CsvRow, account: Account, errors: list[str]) -> RowResult:
    user = None
    if row.user_id is not None:
        user = account.user_by_id(row.user_id)
    elif row.email is not None:
        user = account.user_by_email(row.email)
    return RowResult(
        row.line,
        row.user_id if row.user_id is not None else (user.id if user else None),
        row.email,
        user.extension if user else None,
        row.extension if row.extension is not None else row.raw_extension or None,
        "not-run",
        "; ".join(errors) or None,
    )


@dataclass(frozen=True)
class UndoInput:
    """An undo's desired state: each user the undone job moved, back where it found them.
    Built from the journal's moves, never from a file, so no error can point at one."""

    undone: Path  # the journal taken back (absolute)
    rows: tuple[Wanted, ...]

    @property
    def name(self) -> str:
        return f"undo-{self.undone.stem}"

    @property
    def shown(self) -> str:
        return f"the undo of {self.undone}"

    def desired(self, account: Account) -> DesiredState:
        # Every reason to refuse a row was made a skipped row when the undo was planned;
        # what moved since, the planner's own checks name.
        return DesiredState(desired_rows(self.rows, account), ())

    def resolved(self, _account: Account) -> dict[int, int]:
        return {row.line: row.user_id for row in self.rows}

    def rejected(self, _findings: Iterable[Finding], _account: Account) -> tuple[RowResult, ...]:
        return ()  # an undo's desired state has no finding of its own


Input = CsvInput | UndoInput


@dataclass(frozen=True)
class Prepared:
    """Everything decided before the first write."""

    input: Input
    account: Account  # the read the plan was made from
    desired: DesiredState
    plan: Plan | None  # None when the input has errors: no plan is made for a bad file
    # How the command line named an input that is no CSV people have (``--undo JOURNAL``).
    given: str | None = None
    skipped: Mapping[int, str] = field(default_factory=dict)  # line → why an undo skips it
    stale: tuple[str, ...] = ()  # what moved since a saved plan was made
    notes: tuple[str, ...] = ()  # for people, said once
    never_park: frozenset[str] = frozenset()  # kept for re-planning (``plan_import``)

    @property
    def shown(self) -> str:
        """How messages and summaries name the input."""
        return self.given if self.given is not None else self.input.shown

    @property
    def csv(self) -> str | None:
        """The CSV whose lines the findings count in, as named; None for an undo."""
        return self.input.shown if isinstance(self.input, CsvInput) else None

    @property
    def findings(self) -> list[Finding]:
        planned = self.plan.findings if self.plan else ()
        return sort_findings([*self.desired.findings, *planned])

    def fails(self, *, strict: bool = False) -> bool:
        """Errors in the input itself (or warnings with ``strict``): nothing may be written."""
        return self.plan is None or bool(failing(self.desired.findings, strict=strict))

    def plan_json(self) -> dict[str, Any]:
        """The plan document, the input's findings included."""
        plan = self.plan if self.plan is not None else Plan((), (), ())
        return plan.to_json(self.desired.findings)

    def rejected_results(self) -> tuple[RowResult, ...]:
        """The report of an input that will not be imported."""
        return self.input.rejected(self.findings, self.account)

    def planned_results(self) -> tuple[RowResult, ...]:
        """The report of a plan that is not applied."""
        assert self.plan is not None
        return self.explain(planned_results(self.plan))

    def applied_results(
        self, written: Mapping[int, str], errors: Mapping[int, str], final: Account | None
    ) -> tuple[RowResult, ...]:
        """The report of the plan applied (see :func:`results.applied_results`), each
        skipped row with its reason."""
        assert self.plan is not None
        return self.explain(applied_results(self.plan.rows, written, errors, final))

    def explain(self, rows: Iterable[RowResult]) -> tuple[RowResult, ...]:
        """``rows`` with each skipped row's reason in its ``error`` column."""
        return tuple(
            dataclasses.replace(row, error=self.skipped[row.line])
            if row.line in self.skipped
            else row
            for row in rows
        )


def prepare(
    input: Input,
    account: Account,
    *,
    notes: tuple[str, ...] = (),
    never_park: frozenset[str] = frozenset(),
) -> Prepared:
    """``input`` judged against ``account`` and planned; an input with errors gets no plan.
    ``never_park``: extensions no cycle may park a user on."""
    desired = input.desired(account)
    planned = (
        None if desired.has_errors else plan_import(account, desired.rows, never_park=never_park)
    )
    return Prepared(input, account, desired, planned, notes=notes, never_park=never_park)
