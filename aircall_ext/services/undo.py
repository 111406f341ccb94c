"""``import --undo``: take an import back as an import of its own.

The undo's desired state (each moved user back where the import found them) is written as a
private CSV beside the undo's journal, and that CSV is what the journal's header names: so
``import --resume`` finishes a stopped undo like any import (same file, sha256-checked), and
``import --undo`` takes an undo back like any import. The header also records ``undo_of``,
the journal that was taken back.

Requests: ⌈U/50⌉ listing pages + one PUT per row moved back + one per cycle + ⌈U/50⌉ to
verify (the same as an import of those rows).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aircall_ext.api.client import ApiClient
from aircall_ext.core.account import Account
from aircall_ext.core.desired import DesiredState
from aircall_ext.core.undo import UndoRow, journal_moves, reverse_rows, undo_csv, with_skipped
from aircall_ext.errors import Refused
from aircall_ext.files import check_distinct
from aircall_ext.services.csvcheck import Source, check
from aircall_ext.services.importer import (
    Outcome,
    Prepared,
    RowResult,
    check_account,
    planned,
    planned_results,
)
from aircall_ext.services.journal import (
    Clock,
    JournalLock,
    default_journal_path,
    read_journal,
    utc_now,
)
from aircall_ext.services.users import load_account

CSV_SUFFIX = ".undo.csv"
KEPT = "the undo's desired state"


def desired_path(journal: Path) -> Path:
    """Where an undo keeps its desired state: beside its journal."""
    return journal.with_name(journal.name.removesuffix(".jsonl") + CSV_SUFFIX)


def check_undo_files(undo: str, journal: str | None, report: str | None) -> None:
    """No output of an undo may overwrite the journal it takes back or another output."""
    kept = str(desired_path(Path(journal).absolute())) if journal else None
    check_distinct(
        [
            ("--undo", undo),
            ("--journal", journal),
            ("the undo's desired state kept beside --journal", kept),
            ("--report", report),
        ]
    )


@dataclass(frozen=True)
class UndoPlan:
    undone: Path  # the journal taken back (absolute)
    journal: Path  # where the undo's own journal goes (absolute)
    rows: tuple[UndoRow, ...]
    prepared: Prepared
    # The lock on the journal taken back, held while it is: no resume of that job, and no
    # second undo of it, can run meanwhile. The caller releases it.
    lock: JournalLock | None = field(default=None, compare=False, repr=False)

    @property
    def skipped(self) -> dict[int, str]:
        """line → why that row is left alone."""
        return {row.line: row.skipped for row in self.rows if row.skipped}

    def explain(self, rows: Iterable[RowResult]) -> tuple[RowResult, ...]:
        """``rows`` with each skipped row's reason in its ``error`` column."""
        reasons = self.skipped
        return tuple(
            dataclasses.replace(row, error=reasons[row.line]) if row.line in reasons else row
            for row in rows
        )

    def explain_outcome(self, outcome: Outcome) -> Outcome:
        return dataclasses.replace(outcome, rows=self.explain(outcome.rows))

    def planned_results(self) -> tuple[RowResult, ...]:
        """The report of the undo's plan when it is not applied."""
        assert self.prepared.plan is not None
        return self.explain(planned_results(self.prepared.plan))


def plan_undo(
    client: ApiClient,
    undone: Path,
    identity: Mapping[str, Any],
    *,
    journal_path: Path | None = None,
    clock: Clock = utc_now,
    lock: bool = True,
) -> UndoPlan:
    """Read the journal (a torn last line is ignored; ``lock``: taking its lock first) and
    the account (⌈U/50⌉ requests), then plan the way back with the import planner."""
    contents = read_journal(undone, lock=lock)
    try:
        check_account(undone, contents.header, identity, "undo")
        undone = contents.path.expanduser().absolute()
        account = load_account(client)
    except BaseException:
        if contents.lock is not None:
            contents.lock.release()
        raise
    rows = tuple(reverse_rows(journal_moves(contents.records, account), account))
    journal = (journal_path or default_journal_path(f"undo-{undone.stem}", clock())).expanduser()
    journal = journal.absolute()
    where = desired_path(journal)
    source = Source(str(where), str(where), undo_csv(rows), keep=KEPT)
    return UndoPlan(undone, journal, rows, _prepare(source, account, rows), contents.lock)


def _prepare(source: Source, account: Account, rows: tuple[UndoRow, ...]) -> Prepared:
    """Plan the CSV against the read already made (no second read), skipped rows added."""
    checked = check(source, account)
    if not checked.csv_file.rows:
        # Every row skipped (or none): nothing to check, and "no data rows" is no finding here.
        checked = dataclasses.replace(checked, desired=DesiredState((), ()))
    prepared = planned(checked)
    if prepared.plan is None:
        return prepared
    return dataclasses.replace(prepared, plan=with_skipped(prepared.plan, rows))


def recheck_undo(client: ApiClient, undo: UndoPlan, identity: Mapping[str, Any]) -> UndoPlan:
    """Plan again from a fresh read after the confirmation: a different plan (or other
    skipped rows) is not the one agreed to."""
    plan = undo.prepared.plan
    assert plan is not None
    fresh = plan_undo(client, undo.undone, identity, journal_path=undo.journal, lock=False)
    again = fresh.prepared.plan
    if again is None or again.steps != plan.steps or fresh.skipped != undo.skipped:
        raise Refused(
            "the account changed while the plan was shown: nothing was written",
            hint="run the undo again to review the new plan",
        )
    return dataclasses.replace(fresh, lock=undo.lock)
