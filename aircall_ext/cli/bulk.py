"""``export`` and ``diff``: the account as a re-importable CSV, and its drift from one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from aircall_ext import github, output
from aircall_ext.cli.context import AppContext, github_output_option, output_option, with_app
from aircall_ext.cli.render import command_words, incomplete_note
from aircall_ext.columns import Columns
from aircall_ext.errors import Remedy, UsageError
from aircall_ext.files import open_destination

if TYPE_CHECKING:
    from aircall_ext.core.account import Account
    from aircall_ext.services.csvcheck import DriftReport

# The drifted rows, on a terminal and in a GitHub step summary alike.
DRIFT_COLUMNS = Columns.of("line", ("user_id", "user"), "email", "expected", "actual")


@click.command("export")
@output_option
@click.argument(
    "file", required=False, default="-", type=click.Path(dir_okay=False, allow_dash=True)
)
@with_app
def export(app: AppContext, file: str) -> None:
    """Write every user's extension as a CSV that `import` reads back unchanged.

    Columns user_id,email,name,extension, sorted by extension like `list`. Users without an
    extension get a blank cell: blank means "no change" on import, so filling those cells
    in is how to assign the missing ones. Extensions stay text (007 stays 007); cells a
    spreadsheet would run as a formula are neutralised.

    A regular FILE is replaced atomically (never left half-written); a pipe or a device
    (/dev/stdout, >(cmd)) is written directly; - or no FILE writes to stdout. FILE is
    checked before the account is read. With -o json the same rows are written as
    {"users": [...]}. An export is CSV by definition: -o table is refused (use `list` for a
    table).
    """
    from aircall_ext.core.csvfile import EXPORT_COLUMNS, export_rows
    from aircall_ext.services.users import load_account

    if app.output == "table" and _output_given():
        raise UsageError(
            "export writes CSV (or JSON with -o json), not a table",
            hint=("drop -o table, or see the table with ", Remedy("list")),
        )
    destination = open_destination(file, private=False, what="export file")
    account = load_account(app.client(), whole=False)
    if account.incomplete:
        app.warn(incomplete_note(account.incomplete, "users"))
    rows = export_rows(account)
    if app.output == "json":
        text = output.render_json({"users": rows})
    else:
        text = output.render_csv(rows, EXPORT_COLUMNS)
    try:
        destination.write(text.encode("utf-8"))
    except OSError as err:
        raise UsageError(f"cannot write {file!r}: {err.strerror or err}") from None
    _warn_if_damaged(app, account, file)
    if file != "-":
        app.say(f"exported {len(rows)} users to {file}")


def _output_given() -> bool:
    """Whether -o was typed (before or after the command), not just table by default."""
    ctx = click.get_current_context()
    typed = ParameterSource.COMMANDLINE
    return typed in {
        ctx.get_parameter_source("output"),
        ctx.find_root().get_parameter_source("output"),
    }


def _warn_if_damaged(app: AppContext, account: Account, file: str) -> None:
    """Collisions and malformed extensions are exported as they are, never "fixed"."""
    from aircall_ext.core.audit import audit_account
    from aircall_ext.core.findings import failing, plural

    errors = failing(audit_account(account))
    if errors:
        target = "stdout" if file == "-" else file
        app.warn(
            (
                f"the account has {plural(len(errors), 'extension error')} (collisions or "
                f"malformed extensions), exported as they are: {target} will not import until "
                "they are fixed (see ",
                Remedy("validate"),
                ")",
            )
        )


@click.command("diff")
@github_output_option()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@with_app
def diff(app: AppContext, file: str) -> None:
    """Show where the account differs from a desired-state CSV (FILE, - for stdin).

    A row drifts when its extension cell is not the user's current extension. Blank cells
    and users the file does not list are not drift. Errors in the file (unknown users,
    bad rows, damaged cells) are printed on stderr (in the document with -o json).

    Exit 0 when the account matches the file, 1 on drift or on errors in the file.
    """
    from aircall_ext.services.csvcheck import diff_file

    report = diff_file(app.client(), file)
    doc = report.to_json()
    summary = output.drift_counts(doc["summary"])
    clean = (
        f"no drift among the rows compared: {summary}"
        if report.has_errors
        else f"no drift: {summary}"
    )
    if app.output == "github":
        _diff_github(app, report, doc, file, clean)
    else:
        if app.output != "json":
            for finding in report.findings:
                app.say(f"{finding.severity}: {finding.message}", always=True)
        app.emit(doc, doc["drift"], DRIFT_COLUMNS, empty=clean)
    if report.drift and app.output == "table":
        app.say(summary)
    app.exit(1 if report.drift or report.has_errors else 0)


def _diff_github(
    app: AppContext, report: DriftReport, doc: dict[str, Any], file: str, clean: str
) -> None:
    """The file's errors and each drifted row as annotations on FILE, and the summary."""
    where = github.annotated_file(file)
    drift = doc["drift"]
    for line in github.finding_commands(report.findings, where):
        app.out(line)
    for line in github.drift_commands(drift, where):
        app.out(line)
    if not drift:
        app.say(clean)
    summary = github.drift_summary(
        command_words(file), drift, DRIFT_COLUMNS, doc["summary"], report.findings
    )
    app.step_summary(summary)
