"""``import --undo JOURNAL``: the import command's flow, over the undo's desired state.

The plan, confirmation, journal, result and report are the import's own (same renderers,
same exit codes); what differs is where the desired state comes from and the skipped rows,
which are named with their reason and make the run exit 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from aircall_ext import output
from aircall_ext.cli import imports as base
from aircall_ext.cli.context import AppContext
from aircall_ext.errors import Refused

if TYPE_CHECKING:
    from aircall_ext.services.importer import Outcome, StopSignals
    from aircall_ext.services.journal import Header
    from aircall_ext.services.undo import UndoPlan


def run_undo(
    app: AppContext,
    undo: str,
    *,
    dry_run: bool,
    yes: bool,
    report: str | None,
    journal: str | None,
    strict: bool,
) -> None:
    from aircall_ext.files import check_distinct
    from aircall_ext.services.undo import desired_path, plan_undo

    kept = str(desired_path(Path(journal).absolute())) if journal else None
    check_distinct(
        [
            ("--undo", undo),
            ("--journal", journal),
            ("the undo's desired state kept beside --journal", kept),
            ("--report", report),
        ]
    )
    client = app.client()
    identity = base._identity(app)
    destination = base._report_destination(app, report)  # before anything is read or written
    target = Path(journal) if journal else None
    planned = plan_undo(client, Path(undo), identity, journal_path=target)
    prepared = planned.prepared
    if prepared.plan is None or base._file_fails(prepared, strict):
        base._refuse_file(app, prepared, strict, destination)
        return
    base._show_plan(app, prepared, dry_run)
    _say_skipped(app, planned)
    if prepared.plan.blocked or dry_run:
        base._write_report(destination, _planned_rows(planned))
        if prepared.plan.blocked or planned.skipped:
            click.get_current_context().exit(1)
        return
    if prepared.plan.steps and not yes:
        planned = _confirm(app, planned)
    confirmed = planned
    base.apply_writes(app, destination, lambda stop: _apply(app, confirmed, stop))
    if planned.skipped:
        click.get_current_context().exit(1)


def _say_skipped(app: AppContext, planned: UndoPlan) -> None:
    """Every skipped row is named on stderr whatever the output (tables showed the plan's
    warnings already)."""
    skipped = len(planned.skipped)
    if app.output != "table":
        for line, reason in planned.skipped.items():
            app.warn(f"line {line}: skipped: {reason}")
    if skipped:
        rows = f"{skipped} row{'s' if skipped != 1 else ''}"
        app.say(f"undo of {planned.undone}: {rows} skipped (left as they are now)", fg="yellow")


def _planned_rows(planned: UndoPlan) -> list[dict[str, object]]:
    assert planned.prepared.plan is not None
    reasons = planned.skipped
    rows = base._planned_rows(planned.prepared.plan)
    return [{**row, "error": reasons.get(row["line"], row["error"])} for row in rows]


def _confirm(app: AppContext, planned: UndoPlan) -> UndoPlan:
    """Ask; then plan again from a fresh read: a different plan is not the one agreed to."""
    from aircall_ext.services.undo import plan_undo

    plan = planned.prepared.plan
    assert plan is not None
    base.ask(len(plan.steps))
    fresh = plan_undo(
        app.client(), planned.undone, base._identity(app), journal_path=planned.journal
    )
    again = fresh.prepared.plan
    if again is None or again.steps != plan.steps or fresh.skipped != planned.skipped:
        raise Refused(
            "the account changed while the plan was shown: nothing was written",
            hint="run the undo again to review the new plan",
        )
    return fresh


def _apply(app: AppContext, planned: UndoPlan, stop: StopSignals) -> Outcome:
    from aircall_ext.services.undo import apply_undo

    plan = planned.prepared.plan
    assert plan is not None
    if not planned.rows:
        app.say(f"nothing to undo: journal {planned.undone} shows no write that moved a user")
    elif not plan.steps:
        app.say("nothing to write: every row is back already or skipped")

    def announce(header: Header, path: Path) -> None:
        app.say(f"journal: {path}")
        app.say(f"the undo's desired state is kept in {header.file}, for --resume")

    return apply_undo(
        app.client(),
        planned,
        base._identity(app),
        progress=output.Progress("import") if app.show_progress else None,
        stop=stop,
        on_journal=announce,
    )
