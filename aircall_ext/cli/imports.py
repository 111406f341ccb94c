"""``import``: bulk-apply a desired-state CSV safely, resumably, with a journal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from aircall_ext import output
from aircall_ext.cli.context import (
    AppContext,
    account_identity,
    ask,
    file_option,
    github_output_option,
    numbering_option,
    with_app,
)
from aircall_ext.cli.render import (
    ImportRun,
    apply_writes,
    hold_until_exit,
    refuse_file,
    report_destination,
    show_plan,
    write_report,
)
from aircall_ext.cli.undo import run_undo
from aircall_ext.errors import UsageError
from aircall_ext.files import Destination, open_destination
from aircall_ext.names import TOOL, command_line

if TYPE_CHECKING:
    from aircall_ext.services.importer import Outcome, Prepared, StopSignals
    from aircall_ext.services.journal import Header, JournalContents


@click.command("import")
@github_output_option(requires="dry_run")
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--dry-run", is_flag=True, help="Show the plan and write nothing.")
@file_option(
    "--save-plan",
    metavar="PLAN",
    help=(
        "With --dry-run: also save the plan and what it depends on to PLAN (JSON, private), "
        "for `import --plan PLAN`."
    ),
)
@file_option(
    "--plan",
    "plan_file",
    metavar="PLAN",
    help=(
        "Apply exactly the plan saved in PLAN (instead of FILE); refused (exit 1, nothing "
        "written) when the account moved since, or for another account; nothing to write "
        "(exit 0) when it is applied already."
    ),
)
@click.option("-y", "--yes", is_flag=True, help="Apply without asking for confirmation.")
@click.option(
    "--report",
    metavar="PATH",
    type=click.Path(dir_okay=False, allow_dash=True),
    help=(
        "Write a CSV with one row per input row: line,user_id,email,from,to,status,error "
        "(private, 0600; - for stdout, except with -o json or csv)."
    ),
)
@file_option(
    "--journal",
    metavar="PATH",
    help="Where to write the journal (default: a new file in the user state dir).",
)
@file_option(
    "--resume",
    metavar="JOURNAL",
    help="Finish a stopped import from its journal (instead of FILE).",
)
@file_option(
    "--undo",
    metavar="JOURNAL",
    help=(
        "Take the import of JOURNAL back (instead of FILE): its users return to their "
        "extensions before it; users changed since are skipped and named (exit 1)."
    ),
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors: nothing is written.")
@numbering_option
@with_app
def import_command(
    app: AppContext,
    file: str | None,
    dry_run: bool,
    save_plan: str | None,
    plan_file: str | None,
    yes: bool,
    report: str | None,
    journal: str | None,
    resume: str | None,
    undo: str | None,
    strict: bool,
) -> None:
    """The whole file is checked first; any error and nothing is written (exit 1). The plan
    lists each row as unchanged, assign, change or skip (blank cell), and the writes in an
    order where no two users ever share an extension: swaps and longer cycles go through
    one free parking extension (an extra write per cycle); with a numbering plan in effect,
    never one of its reserved extensions.

    Each write is journalled before and after it is sent. If the import stops (API failure,
    Ctrl-C, SIGTERM, SIGHUP: a write already sent is let finish first) it exits 5 and names
    the journal; `import --resume JOURNAL` re-reads the account and the same file (it must
    be unchanged; standard input or a pipe is kept beside the journal) and finishes the job.
    Resuming does not ask for confirmation again. Running a finished import again writes
    nothing. One run at a time uses a journal: a resume or undo of a journal another run
    holds is refused at once (exit 1).

    `--dry-run --save-plan PLAN` saves the plan for review; `import --plan PLAN` later
    re-reads the account and applies exactly that plan, or refuses (exit 1, nothing
    written) naming what moved since, or when PLAN is for another account. A plan applied
    already writes nothing (exit 0); one that is not what its CSV plans (edited by hand) is
    refused as damaged (exit 2).

    `import --undo JOURNAL` takes an import back the same way (plan, confirmation, its own
    journal, resumable and undoable in turn): each user it moved returns to the extension
    they had before it. A user changed since, gone, whose old value was damaged, or whose
    old extension is now held by someone else is skipped and named; any skipped row makes
    the undo exit 1.

    Exit 0 done, 1 file errors, blocked or stale plan, skipped undo rows, or a journal in
    use, 2 usage (a damaged plan or journal too), 5 stopped part-way.
    """
    run = ImportRun(dry_run=dry_run, yes=yes, report=report, journal=journal, strict=strict)
    if plan_file is not None:
        _check_plan_options(file, resume, save_plan, undo)
        _import_plan(app, Path(plan_file), run)
        return
    _check_options(file, resume, journal, undo)
    if undo is None:
        _import_file(app, file, resume, save_plan, run)
    elif save_plan is not None:
        raise UsageError("--save-plan saves the plan of an import of FILE, not of --undo")
    else:
        run_undo(app, undo, run)


def _import_file(
    app: AppContext, file: str | None, resume: str | None, save_plan: str | None, run: ImportRun
) -> None:
    from aircall_ext.services.csvcheck import read_source
    from aircall_ext.services.importer import (
        check_import_files,
        check_resume_files,
        open_journal,
        prepare,
        prepare_resume,
        recheck,
    )

    check_import_files(file, run.journal, run.report, save_plan)
    plan_out = _plan_destination(save_plan, run.dry_run)
    client = app.client()
    contents: JournalContents | None = None
    if resume is not None:
        contents, source = open_journal(Path(resume), account_identity(app))
        hold_until_exit(contents.lock)  # no other run appends to this journal meanwhile
        check_resume_files(contents.header, resume, run.report)
    destination = report_destination(app, run.report)  # before anything is read or written
    never_park = app.never_park()
    if contents is not None:
        assert resume is not None
        app.say(f"resuming {_input_of(contents.header)} from journal {resume}")
        prepared = prepare_resume(client, source, resume, never_park=never_park)
    else:
        assert file is not None
        prepared = prepare(client, read_source(file), never_park=never_park)
    if prepared.plan is None or prepared.fails(strict=run.strict):
        refuse_file(app, prepared, run.strict, destination)
        return
    _show_planned(app, prepared, run, destination)
    if run.dry_run:
        if plan_out is not None:
            _save_plan(app, plan_out, prepared)
        return
    if contents is None and prepared.plan.steps and not run.yes:
        ask(len(prepared.plan.steps))
        prepared = recheck(app.client(), prepared)
    confirmed = prepared
    apply_writes(app, destination, lambda stop: _apply(app, confirmed, contents, run, stop))


def _show_planned(
    app: AppContext, prepared: Prepared, run: ImportRun, destination: Destination | None
) -> None:
    """Show the plan; a blocked plan or a dry run ends here, with the report written."""
    from aircall_ext.services.importer import planned_results

    assert prepared.plan is not None
    show_plan(app, prepared, run.dry_run)
    if prepared.plan.blocked or run.dry_run:
        write_report(destination, planned_results(prepared.plan))
    if prepared.plan.blocked:
        click.get_current_context().exit(1)


def _check_options(
    file: str | None, resume: str | None, journal: str | None, undo: str | None
) -> None:
    if [file, resume, undo].count(None) != 2:
        raise UsageError(
            "give exactly one of FILE, --resume JOURNAL, --undo JOURNAL or --plan PLAN",
            hint="`aircall-ext import users.csv`, `aircall-ext import --resume JOURNAL` or "
            "`aircall-ext import --undo JOURNAL`",
        )
    if resume is not None and journal is not None:
        raise UsageError("--journal cannot be combined with --resume (it appends to JOURNAL)")


def _apply(
    app: AppContext,
    prepared: Prepared,
    contents: JournalContents | None,
    run: ImportRun,
    stop: StopSignals,
) -> Outcome:
    from aircall_ext.services.importer import resume_import, start_import

    assert prepared.plan is not None
    progress = output.Progress("import") if app.show_progress else None
    if contents is not None:
        return resume_import(app.client(), prepared, contents, progress=progress, stop=stop)
    identity = account_identity(app)
    if not prepared.plan.steps:
        app.say("nothing to do: the account already matches the file")
        return start_import(app.client(), prepared, identity)

    def announce(header: Header, path: Path) -> None:
        app.say(f"journal: {path}")
        if header.input_copy is not None:
            app.say(f"{_copied(header)} is kept in {header.input_copy}, for --resume")

    return start_import(
        app.client(),
        prepared,
        identity,
        journal_path=Path(run.journal) if run.journal else None,
        progress=progress,
        stop=stop,
        on_journal=announce,
    )


def _copied(header: Header) -> str:
    """What the copy beside a journal holds, as the user knows it."""
    if header.plan is not None:
        return f"the CSV carried by plan {header.plan}"
    return "standard input" if header.file == "-" else f"what {header.file} gave"


def _input_of(header: Header) -> str:
    """The input a resumed job reads, as the user knows it."""
    if header.input_copy is None:
        return header.file
    return f"{_copied(header)} (kept in {header.input_copy})"


# -- saved plans -----------------------------------------------------------------------


def _plan_destination(save_plan: str | None, dry_run: bool) -> Destination | None:
    """Where --save-plan writes, checked before the account is read."""
    if save_plan is None:
        return None
    if not dry_run:
        raise UsageError(
            "--save-plan needs --dry-run: a saved plan is reviewed first, applied later",
            hint=f"`aircall-ext import FILE --dry-run --save-plan {save_plan}`",
        )
    destination = open_destination(save_plan, private=True, what="plan")
    if destination.is_stdout:
        destination.close()
        raise UsageError("--save-plan needs a file: stdout carries the plan shown")
    return destination


def _save_plan(app: AppContext, destination: Destination, prepared: Prepared) -> None:
    from aircall_ext.services.plans import save_plan

    save_plan(destination, prepared, account_identity(app))
    command = command_line("import", "--plan", destination.name, sandbox=app.sandbox)
    app.say(f"plan saved to {destination.name}; apply it with `{command}`")


def _check_plan_options(
    file: str | None, resume: str | None, save_plan: str | None, undo: str | None
) -> None:
    if [file, resume, save_plan, undo] != [None] * 4:
        raise UsageError(
            "--plan PLAN applies a saved plan: it takes no FILE, --resume, --undo or --save-plan",
            hint="`aircall-ext import --plan PLAN` (add --yes to apply without asking)",
        )


def _import_plan(app: AppContext, path: Path, run: ImportRun) -> None:
    """Apply a saved plan: the same checks, prompt, journal, report and exit codes as an
    import, but exactly the saved steps, and only while nothing they rest on has moved."""
    from aircall_ext.services.plans import open_plan, prepare_plan

    saved = open_plan(path, account_identity(app), run.journal, run.report)
    if saved.tool != TOOL:
        app.warn(f"{path} was made by {saved.tool}; this is {TOOL}")
    destination = report_destination(app, run.report)
    prepared, notes = prepare_plan(app.client(), saved, path)
    for note in notes:
        app.say(note)
    if prepared.fails(strict=run.strict):
        refuse_file(app, prepared, run.strict, destination)
        return
    _show_planned(app, prepared, run, destination)
    assert prepared.plan is not None
    if run.dry_run:
        return
    if prepared.plan.steps and not run.yes:
        ask(len(prepared.plan.steps))
        # People take time to answer: check again that nothing moved meanwhile.
        prepared, _notes = prepare_plan(app.client(), saved, path)
    confirmed = prepared
    apply_writes(app, destination, lambda stop: _apply(app, confirmed, None, run, stop))
