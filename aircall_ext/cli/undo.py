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
from aircall_ext.cli.context import AppContext, account_identity, ask
from aircall_ext.cli.render import (
    ImportRun,
    apply_writes,
    hold_until_exit,
    refuse_file,
    report_destination,
    show_plan,
    write_report,
)

if TYPE_CHECKING:
    from aircall_ext.services.importer import Outcome, StopSignals
    from aircall_ext.services.journal import Header
    from aircall_ext.services.undo import UndoPlan


def run_undo(app: AppContext, undo: str, run: ImportRun) -> None:
    from aircall_ext.services.undo import check_undo_files, plan_undo, recheck_undo

    check_undo_files(undo, run.journal, run.report)
    client = app.client()
    identity = account_identity(app)
    destination = report_destination(app, run.report)  # before anything is read or written
    target = Path(run.journal) if run.journal else None
    planned = plan_undo(client, Path(undo), identity, journal_path=target)
    hold_until_exit(planned.lock)  # the job is not resumed or undone twice meanwhile
    prepared = planned.prepared
    if prepared.plan is None or prepared.fails(strict=run.strict):
        refuse_file(app, prepared, run.strict, destination)
        return
    show_plan(app, prepared, run.dry_run, given=f"--undo {undo}")
    _say_skipped(app, planned)
    if prepared.plan.blocked or run.dry_run:
        write_report(destination, planned.planned_results())
        if prepared.plan.blocked or planned.skipped:
            click.get_current_context().exit(1)
        return
    if prepared.plan.steps and not run.yes:
        ask(len(prepared.plan.steps))
        planned = recheck_undo(app.client(), planned, identity)
    confirmed = planned
    apply_writes(app, destination, lambda stop: _apply(app, confirmed, identity, stop))
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


def _apply(
    app: AppContext, planned: UndoPlan, identity: dict[str, object], stop: StopSignals
) -> Outcome:
    from aircall_ext.services.importer import start_import

    plan = planned.prepared.plan
    assert plan is not None
    if not planned.rows:
        app.say(f"nothing to undo: journal {planned.undone} shows no write that moved a user")
    elif not plan.steps:
        app.say("nothing to write: every row is back already or skipped")

    def announce(header: Header, path: Path) -> None:
        app.say(f"journal: {path}")
        app.say(f"the undo's desired state is kept in {header.file}, for --resume")

    outcome = start_import(
        app.client(),
        planned.prepared,
        identity,
        journal_path=planned.journal,
        progress=output.Progress("import") if app.show_progress else None,
        stop=stop,
        on_journal=announce,
        undo_of=str(planned.undone),
    )
    return planned.explain_outcome(outcome)
