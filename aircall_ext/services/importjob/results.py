"""What an import job reports: one result per row of its input, and the job's result.

The report (``--report``) has one row per input row with its status: ``applied``,
``unchanged``, ``skipped``, ``failed`` or ``not-run``. A row's status is decided from what the
job wrote and, once verified, from what the account holds at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from aircall_ext.columns import Columns
from aircall_ext.core.account import Account
from aircall_ext.core.planner import Action, Plan, PlanRow, RowChange
from aircall_ext.errors import EXIT_FINDINGS, EXIT_OK, EXIT_STOPPED, ImportStopped, Remedy

if TYPE_CHECKING:
    from aircall_ext.services.importjob.prepared import Prepared

Status = Literal["applied", "unchanged", "skipped", "failed", "not-run"]
STATUSES: tuple[Status, ...] = ("applied", "unchanged", "skipped", "failed", "not-run")
REPORT_COLUMNS = Columns.of("line", "user_id", "email", "from", "to", "status", "error")


@dataclass(frozen=True)
class RowResult(RowChange):
    """One row of the report: what became of a row of the input."""

    status: Status
    error: str | None = None

    def report_row(self) -> dict[str, Any]:
        return {**self.to_json(), "status": self.status, "error": self.error}


# What the report says of a planned row that is not applied (a dry run, a blocked plan).
_NOT_APPLIED: dict[Action, Status] = {
    "unchanged": "unchanged",
    "skip": "skipped",
    "assign": "not-run",
    "change": "not-run",
}


def planned_results(plan: Plan) -> tuple[RowResult, ...]:
    """The report of a plan that is not applied: each row as it stands before any write."""
    return tuple(
        RowResult(r.line, r.user_id, r.email, r.from_ext, r.to_ext, _NOT_APPLIED[r.action])
        for r in plan.rows
    )


def applied_results(
    rows: Iterable[PlanRow],
    written: Mapping[int, str],
    errors: Mapping[int, str],
    final: Account | None,
) -> tuple[RowResult, ...]:
    """The report of an applied plan: ``written`` is what the job wrote per user (earlier
    runs too), ``errors`` why a user's write failed, ``final`` the verifying read."""
    return tuple(_status(row, written, errors, final) for row in rows)


def _status(
    row: PlanRow, written: Mapping[int, str], errors: Mapping[int, str], final: Account | None
) -> RowResult:
    def result(status: Status, error: str | None = None) -> RowResult:
        return RowResult(row.line, row.user_id, row.email, row.from_ext, row.to_ext, status, error)

    if row.action == "skip":
        return result("skipped")
    actual = _final_extension(row, written, final)
    if actual == row.to_ext:
        return result("applied" if written.get(row.user_id) == row.to_ext else "unchanged")
    if row.user_id in errors:
        return result("failed", errors[row.user_id])
    return result("not-run")


def _final_extension(row: PlanRow, written: Mapping[int, str], final: Account | None) -> str | None:
    """What the user holds at the end: read back when verified, else what we know."""
    if final is not None:
        user = final.user_by_id(row.user_id)
        return user.extension if user else None
    if row.user_id in written:
        return written[row.user_id]
    return row.from_ext


def summary(rows: Iterable[RowResult]) -> dict[str, int]:
    """How many rows ended in each status (``not_run`` for scripts' sake)."""
    counts = dict.fromkeys(STATUSES, 0)
    for row in rows:
        counts[row.status] += 1
    return {status.replace("-", "_"): n for status, n in counts.items()}


Stage = Literal["refused", "planned", "applied"]


@dataclass(frozen=True)
class ImportResult:
    """How far the job went and what became of every row.

    ``refused``: the input has errors (or warnings, strict), nothing planned or written;
    ``planned``: a dry run, or a plan blocked; ``applied``: the plan ran (maybe stopped
    part-way: ``stopped`` says why, and the journal finishes it).
    """

    stage: Stage
    prepared: Prepared
    rows: tuple[RowResult, ...]
    journal: Path | None = None
    stopped: str | None = None
    writes: int = 0
    planned: int = 0

    @property
    def exit_code(self) -> int:
        """0 done; 1 an input with errors, a blocked plan, or rows an undo skipped; 5
        stopped part-way."""
        if self.stopped is not None:
            return EXIT_STOPPED
        plan = self.prepared.plan
        if self.stage == "refused" or plan is None or plan.blocked or self.prepared.skipped:
            return EXIT_FINDINGS
        return EXIT_OK

    def summary(self) -> dict[str, int]:
        return summary(self.rows)

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary(), "journal": str(self.journal) if self.journal else None}

    def stop_error(self) -> ImportStopped:
        """The error of a job stopped part-way: how far it got, and how to finish it."""
        return ImportStopped(
            f"import stopped after {self.writes} of {self.planned} writes: "
            f"{self.stopped}; journal: {self.journal}",
            hint=("finish it with ", Remedy("import", "--resume", str(self.journal))),
        )
