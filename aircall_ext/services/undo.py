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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aircall_ext.api.client import ApiClient
from aircall_ext.core.account import Account
from aircall_ext.core.csvfile import read_extension_csv
from aircall_ext.core.desired import DesiredState, check_desired
from aircall_ext.core.planner import plan_import
from aircall_ext.core.undo import UndoRow, journal_moves, reverse_rows, undo_csv, with_skipped
from aircall_ext.services.importer import (
    Outcome,
    Prepared,
    Progress,
    Source,
    StopSignals,
    check_account,
    start_import,
)
from aircall_ext.services.journal import (
    Clock,
    Header,
    JournalExists,
    default_journal_path,
    keep_input_copy,
    read_journal,
    utc_now,
)
from aircall_ext.services.users import load_account

CSV_SUFFIX = ".undo.csv"


def desired_path(journal: Path) -> Path:
    """Where an undo keeps its desired state: beside its journal."""
    return journal.with_name(journal.name.removesuffix(".jsonl") + CSV_SUFFIX)


@dataclass(frozen=True)
class UndoPlan:
    undone: Path  # the journal taken back (absolute)
    journal: Path  # where the undo's own journal goes (absolute)
    rows: tuple[UndoRow, ...]
    prepared: Prepared

    @property
    def skipped(self) -> dict[int, str]:
        """line → why that row is left alone."""
        return {row.line: row.skipped for row in self.rows if row.skipped}

    def explain(self, outcome: Outcome) -> Outcome:
        """The outcome with each skipped row's reason in its ``error`` column."""
        reasons = self.skipped
        rows = tuple(
            dataclasses.replace(row, error=reasons[row.line]) if row.line in reasons else row
            for row in outcome.rows
        )
        return dataclasses.replace(outcome, rows=rows)


def plan_undo(
    client: ApiClient,
    undone: Path,
    identity: Mapping[str, Any],
    *,
    journal_path: Path | None = None,
    clock: Clock = utc_now,
) -> UndoPlan:
    """Read the journal (a torn last line is ignored) and the account (⌈U/50⌉ requests),
    then plan the way back with the import planner."""
    contents = read_journal(undone)
    check_account(undone, contents.header, identity, "undo")
    undone = contents.path.expanduser().absolute()
    account = load_account(client)
    rows = tuple(reverse_rows(journal_moves(contents.records, account), account))
    journal = (journal_path or default_journal_path(f"undo-{undone.stem}", clock())).expanduser()
    journal = journal.absolute()
    where = desired_path(journal)
    source = Source(str(where), str(where), undo_csv(rows))
    return UndoPlan(undone, journal, rows, _prepare(source, account, rows))


def _prepare(source: Source, account: Account, rows: tuple[UndoRow, ...]) -> Prepared:
    """Plan the CSV against the read already made (no second read), skipped rows added."""
    csv_file = read_extension_csv(source.data, source=source.shown)
    # Every row skipped (or none): nothing to check, and "no data rows" is no finding here.
    desired = check_desired(csv_file, account) if csv_file.rows else DesiredState((), ())
    plan = None if desired.has_errors else plan_import(account, desired.rows)
    if plan is not None:
        plan = with_skipped(plan, rows)
    return Prepared(source, csv_file, account, desired, plan)


def apply_undo(
    client: ApiClient,
    undo: UndoPlan,
    identity: Mapping[str, Any],
    *,
    progress: Progress | None = None,
    stop: StopSignals | None = None,
    on_journal: Callable[[Header, Path], None] | None = None,
    clock: Clock = utc_now,
    fsync: bool = True,
) -> Outcome:
    """Apply the undo with its own journal; its CSV is saved first (the journal names it)."""
    plan = undo.prepared.plan
    if plan is None or not plan.steps:
        return undo.explain(start_import(client, undo.prepared, identity, clock=clock))
    where = Path(undo.prepared.source.path)
    keep_input_copy(where, undo.prepared.source.data, what="the undo's desired state")
    try:
        outcome = start_import(
            client,
            undo.prepared,
            identity,
            journal_path=undo.journal,
            progress=progress,
            clock=clock,
            fsync=fsync,
            stop=stop,
            on_journal=on_journal,
            undo_of=str(undo.undone),
        )
    except JournalExists:
        where.unlink(missing_ok=True)
        raise
    return undo.explain(outcome)
