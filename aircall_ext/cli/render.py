"""How users, numbers, findings, import plans and import results look, for every command
that shows them.

``list``, ``show``, ``numbers``, ``assign`` and ``sandbox show`` show users and numbers
through these; ``validate``, ``diff``, ``dial --batch`` and ``import`` (FILE, ``--plan``,
``--resume``, ``--undo``) show findings, plans and reports through these: each reads the same
wherever it appears.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click

from aircall_ext import github
from aircall_ext.cli.context import AppContext
from aircall_ext.columns import Columns
from aircall_ext.core.extensions import stored_form
from aircall_ext.core.findings import Finding, failing, plural, summarize
from aircall_ext.output import render_csv, severity_counts

if TYPE_CHECKING:
    from aircall_ext.api.models import Number, User
    from aircall_ext.services.importjob import ImportResult, Prepared, RowResult

# -- users and numbers -----------------------------------------------------------------

USER_COLUMNS = Columns.of(
    ("extension", "ext"),
    "id",
    "name",
    "email",
    "availability",
    ("outgoing_only", "outgoing-only"),
)

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


# One record as a two-column table (``show``).
FIELDS = Columns.of("field", "value")


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


NUMBER_COLUMNS = Columns.of(
    "id", "name", "digits", "routing", ("distribution_size", "distribution")
)


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

FINDING_COLUMNS = Columns.of(
    "severity", "code", ("user_id", "user"), "email", ("extension", "ext"), "message"
)
LOCATION = Columns.of("line", "column")  # where in the CSV, for a finding of one
FINDING_CSV = Columns.of(*FINDING_COLUMNS, *LOCATION)  # fixed for scripts, CSV input or not


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
    if app.output == "github":
        emit_github_findings(app, findings, source, clean=clean)
    else:
        located = any(f.line is not None for f in findings)
        columns = Columns.of(*LOCATION, *FINDING_COLUMNS) if located else FINDING_COLUMNS
        app.emit(
            findings_document(findings),
            finding_rows(findings),
            columns,
            csv=FINDING_CSV,
            empty=clean,
        )
    if findings and app.output == "table":
        app.say(severity_counts(summarize(findings)))
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
        for line in github.finding_commands(findings, github.annotated_file(file)):
            app.out(line)
    if not every:
        app.say(clean)
    app.step_summary(github.findings_summary(command_words(None), every))
    return findings_exit_code(every, strict=strict)


def emit_github_findings(
    app: AppContext, findings: Sequence[Finding], source: str | None, *, clean: str
) -> None:
    for line in github.finding_commands(findings, github.annotated_file(source)):
        app.out(line)
    if not findings:
        app.say(clean)
    app.step_summary(github.findings_summary(command_words(source), findings))


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


# -- import plans and results ----------------------------------------------------------

# The plan, on a terminal and in a GitHub step summary alike.
PLAN_COLUMNS = Columns.of("line", ("user_id", "user"), "email", "from", "to", "action")
RESULT_COLUMNS = Columns.of("applied", "unchanged", "skipped", "failed", "not_run", "journal")


def show_plan(app: AppContext, prepared: Prepared, dry_run: bool) -> None:
    """People see the plan before it runs; scripts get the plan document with --dry-run
    (and when it is blocked), else only the result document on stdout."""
    plan = prepared.plan
    assert plan is not None
    if app.output == "github":
        _github_plan(app, prepared)
        return
    rows = [row.to_json() for row in plan.rows]
    if app.output == "table" or dry_run or plan.blocked:
        app.emit(prepared.plan_json(), rows, PLAN_COLUMNS, empty="no rows")
    if app.output == "table":
        app.say(f"plan: {plan.counts_line()}")
        for finding in prepared.findings:
            if finding.severity != "info":
                say = app.warn if finding.severity == "warning" else app.error
                say(finding.message)


def _github_plan(app: AppContext, prepared: Prepared) -> None:
    """``import --dry-run``: the findings as annotations on the file, the plan's counts as a
    notice, and the plan table in the step summary. An undo, whose desired state is no file
    anybody has, annotates no file."""
    assert prepared.plan is not None
    counts = prepared.plan.counts_line()
    for line in github.finding_commands(prepared.findings, github.annotated_file(prepared.csv)):
        app.out(line)
    app.out(github.plan_notice(counts))
    plan = [row.to_json() for row in prepared.plan.rows]
    summary = github.plan_summary(
        command_words(prepared.shown), plan, PLAN_COLUMNS, counts, prepared.findings
    )
    app.step_summary(summary)


def show_refused(app: AppContext, prepared: Prepared, strict: bool) -> None:
    """Any error in the input (or warning with --strict): every finding, and why nothing
    was written."""
    emit_findings(app, prepared.findings, strict=strict, source=prepared.shown)
    app.say("nothing was written by this run: fix the file and run the import again", fg="red")


def show_skipped(app: AppContext, prepared: Prepared, undone: str) -> None:
    """Every row an undo skips is named on stderr whatever the output (tables showed the
    plan's warnings already)."""
    if app.output != "table":
        for line, reason in prepared.skipped.items():
            app.warn(f"line {line}: skipped: {reason}")
    if prepared.skipped:
        rows = plural(len(prepared.skipped), "row")
        app.say(f"undo of {undone}: {rows} skipped (left as they are now)", fg="yellow")


def show_result(app: AppContext, result: ImportResult) -> None:
    """The result document (``-o csv``: the report's rows)."""
    from aircall_ext.services.importjob import REPORT_COLUMNS

    doc = result.to_json()
    if app.output == "csv":
        app.emit(doc, report_rows(result.rows), REPORT_COLUMNS)
    else:
        app.emit(doc, [{**doc["summary"], "journal": doc["journal"]}], RESULT_COLUMNS)


def report_rows(rows: Iterable[RowResult]) -> list[dict[str, Any]]:
    return [row.report_row() for row in rows]


def report_csv(rows: Iterable[RowResult]) -> bytes:
    """The report file (``--report``): one CSV row per input row."""
    from aircall_ext.services.importjob import REPORT_COLUMNS

    return render_csv(report_rows(rows), REPORT_COLUMNS).encode("utf-8")
