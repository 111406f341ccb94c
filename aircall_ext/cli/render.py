"""How users, numbers, findings, import plans and import results look, for every command
that shows them.

``list``, ``show``, ``numbers``, ``assign`` and ``sandbox show`` show users and numbers
through these; ``validate``, ``diff``, ``dial --batch`` and ``import`` (FILE, ``--plan``,
``--resume``, ``--undo``) show findings, plans and reports through these: each reads the same
wherever it appears.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aircall_ext import github
from aircall_ext.cli.context import AppContext
from aircall_ext.core.extensions import stored_form
from aircall_ext.core.findings import Finding, failing, summarize
from aircall_ext.errors import ImportStopped, Remedy, UsageError
from aircall_ext.files import Destination, open_destination
from aircall_ext.output import render_csv

if TYPE_CHECKING:
    from aircall_ext.api.models import Number, User
    from aircall_ext.core.planner import Plan
    from aircall_ext.services.importer import Outcome, Prepared, RowResult, StopSignals
    from aircall_ext.services.journal import JournalLock

# -- users and numbers -----------------------------------------------------------------

USER_COLUMNS = ["extension", "id", "name", "email", "availability", "outgoing_only"]
USER_HEADERS = ["ext", "id", "name", "email", "availability", "outgoing-only"]

# The keys of a user and a number in listings' JSON, in this order (scripts rely on them).
USER_KEYS = (
    "id",
    "name",
    "email",
    "extension",
    "available",
    "availability_status",
    "outgoing_only",
)
NUMBER_KEYS = ("id", "name", "digits", "routing", "routing_assumed")


def pick(record: object, names: Iterable[str]) -> dict[str, Any]:
    """The attributes ``names`` of ``record`` as a dict, in that order."""
    return {name: getattr(record, name) for name in names}


def user_doc(user: User) -> dict[str, Any]:
    return pick(user, USER_KEYS)


def user_row(user: User) -> dict[str, Any]:
    """A user as tables and CSV show it; a damaged extension quoted (JSON keeps it raw)."""
    status = "unavailable" if user.is_unavailable else (user.availability_status or "available")
    outgoing = "unknown" if user.outgoing_only is None else user.outgoing_only
    shown = None if user.extension is None else stored_form(user.extension)
    return {**user_doc(user), "extension": shown, "availability": status, "outgoing_only": outgoing}


NUMBER_COLUMNS = ["id", "name", "digits", "routing", "distribution_size"]
NUMBER_HEADERS = ["id", "name", "digits", "routing", "distribution"]


def number_doc(number: Number) -> dict[str, Any]:
    size = len(number.users) if number.users is not None else None
    return {**pick(number, NUMBER_KEYS), "distribution_size": size}


def number_row(number: Number) -> dict[str, Any]:
    doc = number_doc(number)
    if number.routing_assumed:
        doc["routing"] = f"{number.routing} (assumed)"
    return doc


USER_NUMBER_KEYS = ("id", "name", "digits")


def user_number_doc(number: Number) -> dict[str, Any]:
    """A number as ``show`` lists it under the user: which one, not how it routes."""
    return pick(number, USER_NUMBER_KEYS)


def number_label(number: Number) -> str:
    """``Support FR (+33 1 76 36 06 95)``; the id when the number has no name."""
    name = number.name or f"number {number.id}"
    return f"{name} ({number.digits})" if number.digits else name


def incomplete_note(reason: str, what: str) -> str:
    """The warning of a listing shown although its pages did not add up."""
    return f"{reason}, so some {what} may be missing; run it again"


# -- findings --------------------------------------------------------------------------

TABLE_COLUMNS = ["severity", "code", "user_id", "email", "extension", "message"]
TABLE_HEADERS = ["severity", "code", "user", "email", "ext", "message"]
CSV_COLUMNS = [*TABLE_COLUMNS, "line", "column"]  # fixed for scripts, CSV input or not


def finding_rows(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    return [{**f.to_json(), "line": f.line, "column": f.column} for f in findings]


def findings_document(findings: Sequence[Finding]) -> dict[str, Any]:
    """``{"findings": [...], "summary": {"errors", "warnings", "infos"}}``."""
    return {"findings": [f.to_json() for f in findings], "summary": summarize(findings)}


def findings_exit_code(findings: Sequence[Finding], *, strict: bool = False) -> int:
    """1 on errors (and on warnings with ``--strict``), else 0."""
    return 1 if failing(findings, strict=strict) else 0


def emit_findings(
    app: AppContext,
    findings: Sequence[Finding],
    *,
    strict: bool = False,
    clean: str = "no findings",
    source: str | None = None,
) -> int:
    """Render findings in the run's format and return the exit code they deserve.

    The table gains line/column columns only when a finding comes from a file; ``source``
    (the CSV as named on the command line) is where GitHub annotations point.
    """
    rows = finding_rows(findings)
    if app.output == "github":
        emit_github_findings(app, findings, source, clean=clean)
    elif app.output == "csv":
        app.emit({}, rows, CSV_COLUMNS)
    else:
        has_lines = any(f.line is not None for f in findings)
        prefix = ["line", "column"] if has_lines else []
        app.emit(
            findings_document(findings),
            rows,
            [*prefix, *TABLE_COLUMNS],
            headers=[*prefix, *TABLE_HEADERS],
            empty=clean,
        )
    if findings and app.output == "table":
        app.say(github.severity_counts(summarize(findings)))
    return findings_exit_code(findings, strict=strict)


def emit_offline_findings(
    app: AppContext, checked: Sequence[tuple[str, Sequence[Finding]]], *, strict: bool
) -> int:
    """``validate --offline FILE...``: each file's findings (their messages name the file);
    GitHub annotations point at the file each finding is about."""
    if len(checked) == 1:
        file, findings = checked[0]
        return emit_findings(
            app, findings, strict=strict, clean=f"no findings: {file} is well-formed", source=file
        )
    every = [f for _file, findings in checked for f in findings]
    clean = f"no findings in {len(checked)} files"
    if app.output != "github":
        return emit_findings(app, every, strict=strict, clean=clean)
    for file, findings in checked:
        for line in github.finding_commands(
            [f.to_json() for f in findings], github.annotated_file(file)
        ):
            click.echo(line)
    if not every:
        app.say(clean)
    app.step_summary(github.findings_summary(command_words(None), [f.to_json() for f in every]))
    return findings_exit_code(every, strict=strict)


def emit_github_findings(
    app: AppContext, findings: Sequence[Finding], source: str | None, *, clean: str
) -> None:
    docs = [f.to_json() for f in findings]
    for line in github.finding_commands(docs, github.annotated_file(source)):
        click.echo(line)
    if not findings:
        app.say(clean)
    app.step_summary(github.findings_summary(command_words(source), docs))


def emit_github_plan(app: AppContext, prepared: Prepared, given: str | None = None) -> None:
    """``import --dry-run``: the findings as annotations on the file, the plan's counts as a
    notice, and the plan table in the step summary. ``given``: how the command line named
    an input that is not the CSV the findings' lines count in (``--undo JOURNAL``, whose
    desired state is a private file nobody has in the repository): no file is annotated."""
    assert prepared.plan is not None
    findings = [f.to_json() for f in prepared.findings]
    summary = prepared.plan.summary()
    file = github.annotated_file(prepared.source.shown) if given is None else None
    for line in github.finding_commands(findings, file):
        click.echo(line)
    click.echo(github.plan_notice(summary))
    plan = [row.to_json() for row in prepared.plan.rows]
    heading = command_words(prepared.source.shown if given is None else given)
    app.step_summary(github.plan_summary(heading, plan, summary, findings))


def command_words(source: str | None) -> str:
    """The running command as a summary heading names it: ``aircall-ext import FILE
    --dry-run`` (the options that change what it reports, not every one)."""
    ctx = click.get_current_context()
    words = [ctx.command_path, *([source] if source else [])]
    words += [
        f"--{name.replace('_', '-')}"
        for name in ("dry_run", "strict", "offline")
        if ctx.params.get(name)
    ]
    return " ".join(words)


# -- import plans ----------------------------------------------------------------------

PLAN_COLUMNS = ["line", "user_id", "email", "from", "to", "action"]
PLAN_HEADERS = ["line", "user", "email", "from", "to", "action"]


def show_plan(
    app: AppContext, prepared: Prepared, dry_run: bool, *, given: str | None = None
) -> None:
    """People see the plan before it runs; scripts get the plan document with --dry-run
    (and when it is blocked), else only the result document on stdout. ``given``: see
    :func:`emit_github_plan`."""
    plan = prepared.plan
    assert plan is not None
    if app.output == "github":
        emit_github_plan(app, prepared, given)
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


def refuse_file(
    app: AppContext, prepared: Prepared, strict: bool, report: Destination | None
) -> None:
    """Any error in the file (or warning with --strict): show every finding, write nothing."""
    write_report(report, prepared.rejected_results())
    emit_findings(app, prepared.findings, strict=strict, source=prepared.source.shown)
    app.say("nothing was written by this run: fix the file and run the import again", fg="red")
    click.get_current_context().exit(1)


# -- import runs, results and reports ---------------------------------------------------


@dataclass(frozen=True)
class ImportRun:
    """The options every kind of import run takes (FILE, --plan, --undo)."""

    dry_run: bool
    yes: bool
    report: str | None
    journal: str | None
    strict: bool


RESULT_COLUMNS = ["applied", "unchanged", "skipped", "failed", "not_run", "journal"]


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


def write_report(report: Destination | None, rows: Iterable[RowResult]) -> None:
    if report is None:
        return
    from aircall_ext.services.importer import REPORT_COLUMNS

    text = render_csv([row.report_row() for row in rows], REPORT_COLUMNS)
    try:
        report.write(text.encode("utf-8"))
    except OSError as err:
        raise UsageError(f"cannot write report {report.name}: {err.strerror or err}") from None


def hold_until_exit(lock: JournalLock | None) -> None:
    """Keep a journal's lock until the command ends, however it ends."""
    if lock is not None:
        click.get_current_context().with_resource(lock)


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


def _finish_report(app: AppContext, outcome: Outcome, report: Destination | None) -> None:
    """The writes are done: a report that fails now is a warning, never a usage error."""
    try:
        write_report(report, outcome.rows)
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
        hint=("finish it with ", resume_remedy(outcome.journal)),
    )


def resume_remedy(journal: Path | str | None) -> Remedy:
    """The command that finishes the job of ``journal``."""
    return Remedy("import", "--resume", str(journal))
