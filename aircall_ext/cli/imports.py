"""``import``: bulk-apply a desired-state CSV safely, resumably, with a journal."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aircall_ext import output
from aircall_ext.cli.context import AppContext, github_output_option, with_app
from aircall_ext.errors import ApiError, ImportStopped, Refused, UsageError
from aircall_ext.names import APP_NAME

if TYPE_CHECKING:
    from aircall_ext.api.client import ApiClient
    from aircall_ext.core.planner import Plan
    from aircall_ext.core.savedplan import SavedPlan
    from aircall_ext.files import Destination
    from aircall_ext.services.importer import Outcome, Prepared, Source, StopSignals
    from aircall_ext.services.journal import Header, JournalContents

PLAN_COLUMNS = ["line", "user_id", "email", "from", "to", "action"]
PLAN_HEADERS = ["line", "user", "email", "from", "to", "action"]
RESULT_COLUMNS = ["applied", "unchanged", "skipped", "failed", "not_run", "journal"]


@click.command("import")
@github_output_option(requires="dry_run")
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--dry-run", is_flag=True, help="Show the plan and write nothing.")
@click.option(
    "--save-plan",
    metavar="PLAN",
    type=click.Path(dir_okay=False),
    help=(
        "With --dry-run: also save the plan and what it depends on to PLAN (JSON, private), "
        "for `import --plan PLAN`."
    ),
)
@click.option(
    "--plan",
    "plan_file",
    metavar="PLAN",
    type=click.Path(dir_okay=False),
    help=(
        "Apply exactly the plan saved in PLAN (instead of FILE); refused (exit 1, nothing "
        "written) when the account moved since, or for another account."
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
@click.option(
    "--journal",
    metavar="PATH",
    type=click.Path(dir_okay=False),
    help="Where to write the journal (default: a new file in the user state dir).",
)
@click.option(
    "--resume",
    metavar="JOURNAL",
    type=click.Path(dir_okay=False),
    help="Finish a stopped import from its journal (instead of FILE).",
)
@click.option(
    "--undo",
    metavar="JOURNAL",
    type=click.Path(dir_okay=False),
    help=(
        "Take the import of JOURNAL back (instead of FILE): its users return to their "
        "extensions before it; users changed since are skipped and named (exit 1)."
    ),
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors: nothing is written.")
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
    one free parking extension (an extra write per cycle).

    Each write is journalled before and after it is sent. If the import stops (API failure,
    Ctrl-C, SIGTERM, SIGHUP: a write already sent is let finish first) it exits 5 and names
    the journal; `import --resume JOURNAL` re-reads the account and the same file (it must
    be unchanged; standard input is kept beside the journal) and finishes the job. Resuming
    does not ask for confirmation again. Running a finished import again writes nothing.

    `--dry-run --save-plan PLAN` saves the plan for review; `import --plan PLAN` later
    re-reads the account and applies exactly that plan, or refuses (exit 1, nothing
    written) naming what moved since, or when PLAN is for another account.

    `import --undo JOURNAL` takes an import back the same way (plan, confirmation, its own
    journal, resumable and undoable in turn): each user it moved returns to the extension
    they had before it. A user changed since, gone, or whose old extension is now held by
    someone else is skipped and named; any skipped row makes the undo exit 1.

    Exit 0 done, 1 file errors, blocked or stale plan, or skipped undo rows, 2 usage,
    5 stopped part-way.
    """
    if plan_file is not None:
        _check_plan_options(file, resume, save_plan, undo)
        _import_plan(app, Path(plan_file), dry_run, yes, report, journal, strict)
        return
    _check_options(file, resume, journal, undo)
    if undo is not None:
        from aircall_ext.cli.undo import run_undo

        if save_plan is not None:
            raise UsageError("--save-plan saves the plan of an import of FILE, not of --undo")
        run_undo(app, undo, dry_run=dry_run, yes=yes, report=report, journal=journal, strict=strict)
        return
    from aircall_ext.services.importer import open_journal, read_source

    _check_distinct_files(file, journal, report, save_plan)
    plan_out = _plan_destination(save_plan, dry_run)
    client = app.client()
    identity = _identity(app)
    contents: JournalContents | None = None
    if resume is not None:
        contents, source = open_journal(Path(resume), identity)
        _check_distinct_files_of_resume(contents.header, resume, report)
    destination = _report_destination(app, report)  # before anything is read or written
    if contents is not None:
        read = contents.header.file
        if read == "-":
            read = f"standard input (kept in {contents.header.input_copy})"
        app.say(f"resuming {read} from journal {resume}")
    else:
        assert file is not None
        source = read_source(file)
    prepared = _prepare(app, client, source, resume)
    if prepared.plan is None or _file_fails(prepared, strict):
        _refuse_file(app, prepared, strict, destination)
        return
    _show_plan(app, prepared, dry_run)
    if prepared.plan.blocked:
        _write_report(destination, _planned_rows(prepared.plan))
        click.get_current_context().exit(1)
    if dry_run:
        _write_report(destination, _planned_rows(prepared.plan))
        if plan_out is not None:
            _save_plan(app, plan_out, prepared)
        return
    if contents is None and prepared.plan.steps and not yes:
        prepared = _confirm(app, prepared)
    confirmed = prepared
    apply_writes(app, destination, lambda stop: _apply(app, confirmed, contents, journal, stop))


# -- checks ----------------------------------------------------------------------------


def _prepare(app: AppContext, client: ApiClient, source: Source, resume: str | None) -> Prepared:
    """Read and plan. A resume that cannot read the account leaves the job unfinished: that
    is still exit 5 with the journal named, so a script resuming on 5 does not stop at 4."""
    from aircall_ext.services.importer import prepare

    try:
        return prepare(client, source)
    except ApiError as err:
        if resume is None:
            raise
        raise ImportStopped(
            f"could not resume: {err.message}; the import is still unfinished; journal: {resume}",
            hint=f"try again with `{_resume_command(app, Path(resume))}`",
        ) from None


def _check_options(
    file: str | None, resume: str | None, journal: str | None, undo: str | None = None
) -> None:
    if [file, resume, undo].count(None) != 2:
        raise UsageError(
            "give exactly one of FILE, --resume JOURNAL, --undo JOURNAL or --plan PLAN",
            hint="`aircall-ext import users.csv`, `aircall-ext import --resume JOURNAL` or "
            "`aircall-ext import --undo JOURNAL`",
        )
    if resume is not None and journal is not None:
        raise UsageError("--journal cannot be combined with --resume (it appends to JOURNAL)")


def _check_distinct_files(
    file: str | None, journal: str | None, report: str | None, save_plan: str | None
) -> None:
    """No output of the run may overwrite its input or another of its outputs."""
    from aircall_ext.files import check_distinct

    copy = None
    if file == "-" and journal is not None:
        from aircall_ext.services.journal import input_copy_path

        copy = str(input_copy_path(Path(journal).absolute()))
    check_distinct(
        [
            ("FILE", file),
            ("--journal", journal),
            ("the copy of standard input kept beside --journal", copy),
            ("--report", report),
            ("--save-plan", save_plan),
        ]
    )


def _check_distinct_files_of_resume(header: Header, resume: str, report: str | None) -> None:
    from aircall_ext.files import check_distinct

    check_distinct(
        [
            ("the journal's input file", header.file),
            ("the journal's copy of standard input", header.input_copy),
            ("--resume", resume),
            ("--report", report),
        ]
    )


def _report_destination(app: AppContext, report: str | None) -> Destination | None:
    """Check (or open, for a pipe or a device) where the report goes, before the first
    write: a report that cannot be saved is a usage error then, never after the import."""
    if report is None:
        return None
    from aircall_ext.files import open_destination

    destination = open_destination(report, private=True, what="report")
    if destination.is_stdout and app.output != "table":
        destination.close()
        raise UsageError(
            f"--report {report} would mix the report's CSV into stdout, which carries the "
            f"-o {app.output} document",
            hint="give --report a file path, or use -o table",
        )
    return destination


def _identity(app: AppContext) -> dict[str, Any]:
    from aircall_ext.services.journal import account_identity

    settings = app.settings()
    return account_identity(settings.base_url, settings.api_id, sandbox=settings.sandbox)


def _file_fails(prepared: Prepared, strict: bool) -> bool:
    """Errors in the file itself (not a blocked plan), or warnings with --strict."""
    from aircall_ext.core.findings import has_failures

    return has_failures(prepared.desired.findings, strict=strict)


def _refuse_file(
    app: AppContext, prepared: Prepared, strict: bool, report: Destination | None
) -> None:
    """Any error in the file (or warning with --strict): show every finding, write nothing."""
    from aircall_ext.cli.validate import emit_findings

    _write_report(report, _rejected_rows(prepared))
    emit_findings(app, prepared.findings, strict=strict, source=prepared.source.shown)
    app.say("nothing was written by this run: fix the file and run the import again", fg="red")
    click.get_current_context().exit(1)


# -- the plan --------------------------------------------------------------------------


def _show_plan(app: AppContext, prepared: Prepared, dry_run: bool) -> None:
    """People see the plan before it runs; scripts get the plan document with --dry-run
    (and when it is blocked), else only the result document on stdout."""
    plan = prepared.plan
    assert plan is not None
    if app.output == "github":
        from aircall_ext.cli.validate import emit_github_plan

        emit_github_plan(app, prepared)
        return
    rows = [row.to_json() for row in plan.rows]
    if app.output == "table" or dry_run or plan.blocked:
        app.emit(prepared.plan_json(), rows, PLAN_COLUMNS, headers=PLAN_HEADERS, empty="no rows")
    if app.output == "table":
        _say_plan(app, plan)
        for finding in prepared.findings:
            if finding.severity != "info":
                say = app.warn if finding.severity == "warning" else _error_line
                say(finding.message)


def _say_plan(app: AppContext, plan: Plan) -> None:
    summary = plan.summary()
    counts = ", ".join(f"{summary[k]} {k}" for k in ("change", "assign", "unchanged", "skip"))
    writes = f"{len(plan.steps)} write{'s' if len(plan.steps) != 1 else ''}"
    if plan.cycles:
        writes += (
            f" ({plan.cycles} cycle{'s' if plan.cycles > 1 else ''} via parking {plan.parking})"
        )
    app.say(f"plan: {counts}; {writes}")


def _error_line(message: str) -> None:
    click.echo(f"error: {message}", err=True)


def _confirm(app: AppContext, prepared: Prepared) -> Prepared:
    """Ask; then re-read the account, because people take time to answer and someone may
    have changed it meanwhile: a different plan is not the one they agreed to."""
    from aircall_ext.services.importer import prepare

    assert prepared.plan is not None
    ask(len(prepared.plan.steps))
    fresh = prepare(app.client(), prepared.source)
    if fresh.plan is None or fresh.plan.steps != prepared.plan.steps:
        raise Refused(
            "the account changed while the plan was shown: nothing was written",
            hint="run the import again to review the new plan",
        )
    return fresh


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


# -- applying --------------------------------------------------------------------------


def apply_writes(
    app: AppContext, destination: Destination | None, apply: Callable[[StopSignals], Outcome]
) -> None:
    """Run ``apply`` while SIGINT/SIGTERM/SIGHUP stop it cleanly, then print the result and
    write the report, never cut short; exit 5 naming the journal when it stopped part-way.
    Shared by an import, a saved plan and an undo."""
    from aircall_ext.services.importer import stop_signals

    with stop_signals() as stop:
        outcome = apply(stop)
        with stop.shielded():
            _emit_result(app, outcome)
            _finish_report(app, outcome, destination)
    _raise_if_stopped(app, outcome)


def _apply(
    app: AppContext,
    prepared: Prepared,
    contents: JournalContents | None,
    journal: str | None,
    stop: StopSignals,
) -> Outcome:
    from aircall_ext.services.importer import resume_import, start_import

    assert prepared.plan is not None
    progress = output.Progress("import") if app.show_progress else None
    if contents is not None:
        return resume_import(app.client(), prepared, contents, progress=progress, stop=stop)
    if not prepared.plan.steps:
        app.say("nothing to do: the account already matches the file")
        return start_import(app.client(), prepared, _identity(app))

    def announce(header: Header, path: Path) -> None:
        app.say(f"journal: {path}")
        if header.input_copy is not None:
            app.say(f"standard input is kept in {header.input_copy}, for --resume")

    return start_import(
        app.client(),
        prepared,
        _identity(app),
        journal_path=Path(journal) if journal else None,
        progress=progress,
        stop=stop,
        on_journal=announce,
    )


def _finish_report(app: AppContext, outcome: Outcome, report: Destination | None) -> None:
    """The writes are done: a report that fails now is a warning, never a usage error."""
    try:
        _write_report(report, [row.report_row() for row in outcome.rows])
    except UsageError as err:
        app.warn(f"{err.message}; the import itself is recorded in journal {outcome.journal}")


def _emit_result(app: AppContext, outcome: Outcome) -> None:
    doc = outcome.to_json()
    if app.output == "csv":
        from aircall_ext.services.importer import REPORT_COLUMNS

        app.emit(doc, [row.report_row() for row in outcome.rows], REPORT_COLUMNS)
    else:
        app.emit(doc, [{**doc["summary"], "journal": doc["journal"]}], RESULT_COLUMNS)


def _raise_if_stopped(app: AppContext, outcome: Outcome) -> None:
    if outcome.stopped is None:
        return
    raise ImportStopped(
        f"import stopped after {outcome.writes} of {outcome.planned} writes: "
        f"{outcome.stopped}; journal: {outcome.journal}",
        hint=f"finish it with `{_resume_command(app, outcome.journal)}`",
    )


def _resume_command(app: AppContext, journal: Path | None) -> str:
    words = [APP_NAME]
    if app.sandbox:
        words.append("--sandbox")
    if app.profile:
        words += ["--profile", app.profile]
    if app.base_url:
        words += ["--base-url", app.base_url]
    words += ["import", "--resume", str(journal)]
    return shlex.join(words)


# -- report ----------------------------------------------------------------------------


def _planned_rows(plan: Plan) -> list[dict[str, Any]]:
    status = {"unchanged": "unchanged", "skip": "skipped", "assign": "not-run", "change": "not-run"}
    return [{**row.to_json(), "status": status[row.action], "error": None} for row in plan.rows]


def _rejected_rows(prepared: Prepared) -> list[dict[str, Any]]:
    """Every row of a file that will not be imported, with the errors of its line."""
    errors: dict[int, list[str]] = {}
    for finding in prepared.findings:
        if finding.line is not None and finding.severity != "info":
            errors.setdefault(finding.line, []).append(finding.message)
    rows = []
    for row in prepared.csv_file.rows:
        user = None
        if row.user_id is not None:
            user = prepared.account.user_by_id(row.user_id)
        elif row.email is not None:
            user = prepared.account.user_by_email(row.email)
        rows.append(
            {
                "line": row.line,
                "user_id": row.user_id if row.user_id is not None else (user.id if user else None),
                "email": row.email,
                "from": user.extension if user else None,
                "to": row.extension if row.extension is not None else row.raw_extension or None,
                "status": "not-run",
                "error": "; ".join(errors.get(row.line, [])) or None,
            }
        )
    return rows


def _write_report(report: Destination | None, rows: Sequence[Mapping[str, Any]]) -> None:
    if report is None:
        return
    from aircall_ext.output import render_csv
    from aircall_ext.services.importer import REPORT_COLUMNS

    try:
        report.write(render_csv(rows, REPORT_COLUMNS).encode("utf-8"))
    except OSError as err:
        raise UsageError(f"cannot write report {report.name}: {err.strerror or err}") from None


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
    from aircall_ext.files import open_destination

    destination = open_destination(save_plan, private=True, what="plan")
    if destination.is_stdout:
        destination.close()
        raise UsageError("--save-plan needs a file: stdout carries the plan shown")
    return destination


def _save_plan(app: AppContext, destination: Destination, prepared: Prepared) -> None:
    from aircall_ext.services.plans import save_plan

    save_plan(destination, prepared, _identity(app))
    command = [APP_NAME, "--sandbox"] if app.sandbox else [APP_NAME]
    command += ["import", "--plan", destination.name]
    app.say(f"plan saved to {destination.name}; apply it with `{shlex.join(command)}`")


def _check_plan_options(
    file: str | None, resume: str | None, save_plan: str | None, undo: str | None
) -> None:
    if [file, resume, save_plan, undo] != [None] * 4:
        raise UsageError(
            "--plan PLAN applies a saved plan: it takes no FILE, --resume, --undo or --save-plan",
            hint="`aircall-ext import --plan PLAN` (add --yes to apply without asking)",
        )


def _import_plan(
    app: AppContext,
    path: Path,
    dry_run: bool,
    yes: bool,
    report: str | None,
    journal: str | None,
    strict: bool,
) -> None:
    """Apply a saved plan: the same checks, prompt, journal, report and exit codes as an
    import, but exactly the saved steps, and only while nothing they rest on has moved."""
    from aircall_ext.files import check_distinct
    from aircall_ext.services.plans import check_account, load_plan, tool_version

    saved = load_plan(path)
    check_distinct(
        [
            ("--plan", str(path)),
            (f"the plan's input file {saved.file_path}", saved.file_path),
            ("--journal", journal),
            ("--report", report),
        ]
    )
    check_account(saved, _identity(app), path)
    if saved.tool != tool_version():
        app.warn(f"{path} was made by {saved.tool}; this is {tool_version()}")
    destination = _report_destination(app, report)
    prepared = _check_saved_plan(app, saved, path, say_notes=True)
    if _file_fails(prepared, strict):
        _refuse_file(app, prepared, strict, destination)
        return
    _show_plan(app, prepared, dry_run)
    assert prepared.plan is not None
    if dry_run:
        _write_report(destination, _planned_rows(prepared.plan))
        return
    if prepared.plan.steps and not yes:
        ask(len(prepared.plan.steps))
        # People take time to answer: check again that nothing moved meanwhile.
        prepared = _check_saved_plan(app, saved, path, say_notes=False)
    confirmed = prepared
    apply_writes(app, destination, lambda stop: _apply(app, confirmed, None, journal, stop))


def _check_saved_plan(
    app: AppContext, saved: SavedPlan, path: Path, *, say_notes: bool
) -> Prepared:
    from aircall_ext.services.plans import prepare_plan

    prepared, notes = prepare_plan(app.client(), saved, path)
    if say_notes:
        for note in notes:
            app.say(note)
    return prepared


def ask(count: int) -> None:
    """The confirmation before writing: refused off a terminal, "n" is exit 1."""
    if not _stdin_is_terminal():
        raise UsageError(
            "refusing to write without confirmation: standard input is not a terminal",
            hint="pass --yes to apply, or --dry-run to only see the plan",
        )
    if not click.confirm(f"Apply {count} write{'s' if count != 1 else ''}?", err=True):
        raise Refused("aborted: nothing was written")
