"""``import``: bulk-apply a desired-state CSV safely, resumably, with a journal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from aircall_ext.cli import render
from aircall_ext.cli.context import (
    AppContext,
    ask,
    file_option,
    github_output_option,
    numbering_option,
    with_app,
)
from aircall_ext.errors import Hint, Remedy, UsageError
from aircall_ext.files import Destination, open_destination

if TYPE_CHECKING:
    from aircall_ext.services.importjob import (
        ImportOptions,
        ImportResult,
        JobSource,
        Prepared,
        Progress,
        RowResult,
    )


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
@file_option(
    "--report",
    metavar="PATH",
    allow_dash=True,
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
    """Make the account match FILE (CSV: user_id and/or email, extension; - for stdin).

    The whole file is checked first; any error and nothing is written (exit 1). The plan
    lists each row as unchanged, assign, change or skip (blank cell), and the writes in an
    order where no two users ever share an extension: swaps and longer cycles go through
    one free parking extension (an extra write per cycle); with a numbering plan in effect,
    never one of its reserved extensions.

    Asked for confirmation, it reads the account again after the answer and writes the
    plan shown only while it still holds: a user it moves or relies on changed meanwhile,
    or someone else took an extension it needs, and nothing is written (exit 1, what moved
    named). This holds for FILE, --plan and --undo alike.

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
    from aircall_ext.services.importjob import ImportJob, ImportOptions

    source = _source(file, plan_file, resume, undo, save_plan, journal)
    options = ImportOptions(
        dry_run=dry_run,
        yes=yes,
        strict=strict,
        journal=Path(journal) if journal else None,
        save_plan=save_plan,
        report=report,
        never_park=app.never_park(),
    )
    ui = TerminalUi(app, options)
    with ImportJob(source, app, options, ui) as job:
        ui.report = report_destination(app, report)  # before anything is read or written
        result = job.run()
    app.exit(result.exit_code)


def _source(
    file: str | None,
    plan: str | None,
    resume: str | None,
    undo: str | None,
    save_plan: str | None,
    journal: str | None,
) -> JobSource:
    """The job's source, from exactly one of FILE, --plan, --resume and --undo."""
    from aircall_ext.services.importjob import FromCsv, FromJournal, FromPlan, FromUndo

    if plan is not None:
        if [file, resume, save_plan, undo] != [None] * 4:
            raise UsageError(
                "--plan PLAN applies a saved plan: it takes no FILE, --resume, --undo or "
                "--save-plan",
                hint=(Remedy("import", "--plan", "PLAN"), " (add --yes to apply without asking)"),
            )
        return FromPlan(Path(plan))
    if [file, resume, undo].count(None) != 2:
        raise UsageError(
            "give exactly one of FILE, --resume JOURNAL, --undo JOURNAL or --plan PLAN",
            hint=(
                Remedy("import", "users.csv"),
                ", ",
                Remedy("import", "--resume", "JOURNAL"),
                " or ",
                Remedy("import", "--undo", "JOURNAL"),
            ),
        )
    if resume is not None:
        if journal is not None:
            raise UsageError("--journal cannot be combined with --resume (it appends to JOURNAL)")
        return FromJournal(Path(resume))
    if undo is not None:
        if save_plan is not None:
            raise UsageError("--save-plan saves the plan of an import of FILE, not of --undo")
        return FromUndo(Path(undo))
    assert file is not None
    return FromCsv(file)


def report_destination(app: AppContext, report: str | None) -> Destination | None:
    """Check (or open, for a pipe or a device) where the report goes, before the first
    write: a report that cannot be saved is a usage error then, never after the import."""
    if report is None:
        return None
    destination = open_destination(report, private=True, what="report")
    if destination.is_stdout and app.output != "table":
        destination.close()
        raise UsageError(
            f"--report {report} would mix the report's CSV into stdout, which carries the "
            f"-o {app.output} document",
            hint="give --report a file path, or use -o table",
        )
    return destination


class TerminalUi:
    """The job's callbacks on a terminal: the plan and the result in the run's format, the
    prompt, the progress bar, and the report file."""

    def __init__(self, app: AppContext, options: ImportOptions) -> None:
        self.app = app
        self.options = options
        self.report: Destination | None = None

    def say(self, message: Hint) -> None:
        self.app.say(message)

    def warn(self, message: str) -> None:
        self.app.warn(message)

    def show(self, prepared: Prepared) -> None:
        from aircall_ext.services.importjob import UndoInput

        render.show_plan(self.app, prepared, self.options.dry_run)
        if isinstance(prepared.input, UndoInput):
            render.show_skipped(self.app, prepared, str(prepared.input.undone))

    def confirm(self, writes: int) -> None:
        ask(writes)

    def progress(self) -> Progress:
        from aircall_ext.services.importjob import NoProgress

        return self.app.progress_bar("import") or NoProgress()

    def finished(self, result: ImportResult) -> None:
        if result.stage == "applied":
            render.show_result(self.app, result)
            self._write_report(result)
            return
        self._write(self.report, result.rows)
        if result.stage == "refused":
            render.show_refused(self.app, result.prepared, self.options.strict)

    def _write_report(self, result: ImportResult) -> None:
        """The writes are done: a report that fails now is a warning, never a usage error."""
        try:
            self._write(self.report, result.rows)
        except UsageError as err:
            self.app.warn(
                f"{err.message}; the import itself is recorded in journal {result.journal}"
            )

    @staticmethod
    def _write(report: Destination | None, rows: tuple[RowResult, ...]) -> None:
        if report is None:
            return
        try:
            report.write(render.report_csv(rows))
        except OSError as err:
            raise UsageError(f"cannot write report {report.name}: {err.strerror or err}") from None
