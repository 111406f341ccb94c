"""``dial``: dry-run what a caller's dialed digits do on one of the account's numbers."""

from __future__ import annotations

import shutil
import textwrap
from typing import TYPE_CHECKING, Any, cast

import click

from aircall_ext import github
from aircall_ext.cli.completers import complete_files, complete_numbers
from aircall_ext.cli.context import AppContext, github_output_option, with_app
from aircall_ext.cli.render import command_words
from aircall_ext.columns import Columns
from aircall_ext.core.dialbatch import DialRequest
from aircall_ext.core.dialterms import OUTCOMES, STAGES, Outcome, Stage
from aircall_ext.core.findings import listed, who
from aircall_ext.errors import Remedy, UsageError
from aircall_ext.output import dial_counts

if TYPE_CHECKING:
    from aircall_ext.services.dial import BatchRun, DialRun, RowError


# A dry-run's row as CSV has it (a batch's; a single dry-run has no line).
ROW_COLUMNS = Columns.of(
    "line",
    "number_id",
    "number",
    "routing",
    "digits",
    "stage",
    "api_transfer",
    "outcome",
    "reaches_user",
    "user_id",
    "user_email",
    "caller_hears",
    "expect",
    "passed",
    "error",
)
TABLE_COLUMNS = Columns.of(
    "line", "number", "digits", "stage", "outcome", ("user_email", "user"), "expect", "result"
)


@click.command("dial")
@github_output_option(requires="batch")
@click.argument("number", required=False, shell_complete=complete_numbers)
@click.argument("digits", required=False)
@click.option(
    "--stage",
    type=click.Choice(STAGES, case_sensitive=False),
    help="Where the call is when the caller dials: welcome/ivr/audio message, waiting music, "
    "or ringing.",
)
@click.option(
    "--api-transfer",
    is_flag=True,
    help="The call is in the ringing phase of a transfer made through the public API.",
)
@click.option(
    "--expect",
    type=click.Choice(OUTCOMES, case_sensitive=False),
    metavar="OUTCOME",
    help="Exit 0 only if this is the outcome (instead of: only if the call reaches a user).",
)
@click.option(
    "--batch",
    "batch",
    metavar="FILE",
    shell_complete=complete_files,
    help="CSV of dry-runs (columns number,digits,stage[,api_transfer,expect]; - for stdin).",
)
@with_app
def dial(
    app: AppContext,
    number: str | None,
    digits: str | None,
    stage: str | None,
    api_transfer: bool,
    expect: str | None,
    batch: str | None,
) -> None:
    """Dry-run what happens when a caller dials DIGITS on NUMBER at --stage.

    NUMBER is a number id, its name (any case) or its digits in any formatting
    (+33 1 76 36 06 95, 0033176360695, 01 76 36 06 95). The checks of the routing rules
    are shown in order with why each passed or failed, ending with the outcome:
    rings-user, user-unavailable, extension-does-not-exist, not-in-distribution,
    stage-not-accepting, api-transfer or invalid-sequence.

    Exit 0 when the call reaches a user (with --expect: when the outcome is OUTCOME), else 1.
    With --batch, one result per CSV row; exit 1 if any row fails its expect column (or, on
    a row without expect, does not reach a user). A row whose NUMBER names no number (or
    several) fails with its error and the other rows still run. An unknown NUMBER, or a
    batch file that cannot be read as one, is a usage error (exit 2).

    \b
    Examples:
      aircall-ext dial Support 101 --stage ivr
      aircall-ext dial +33176360695 120 --stage ivr --expect user-unavailable
      aircall-ext dial "Sales (legacy)" 102 --stage welcome --expect not-in-distribution
      aircall-ext -o json dial --batch must-ring.csv
    """
    if batch is not None:
        if number or digits or stage or api_transfer or expect:
            raise UsageError(
                "--batch takes no NUMBER, DIGITS, --stage, --api-transfer or --expect",
                hint="they are columns of the batch file",
            )
        _dial_batch(app, batch)
        return
    if number is None or digits is None or stage is None:
        raise UsageError(
            "dial needs NUMBER DIGITS --stage STAGE, or --batch FILE",
            hint=("see ", Remedy("dial", "--help")),
        )
    _dial_one(app, number, digits, stage.lower(), api_transfer, expect and expect.lower())


def _dial_one(
    app: AppContext,
    number: str,
    digits: str,
    stage: str,
    api_transfer: bool,
    expect: str | None,
) -> None:
    from aircall_ext.services.dial import dial

    request = DialRequest(
        number, digits, cast("Stage", stage), api_transfer, cast("Outcome | None", expect)
    )
    run = dial(app.client(), request)
    _warn_collision(app, run)
    if app.output == "table":
        app.out(render_trace(run))
    else:
        doc = run.result.to_json()
        if expect is not None:
            doc = {**doc, "expect": expect, "passed": run.passed}
        app.emit(doc, [result_row(run)], ROW_COLUMNS.without("line"))
    app.exit(0 if run.passed else 1)


def _dial_batch(app: AppContext, path: str) -> None:
    from aircall_ext.services.dial import RowError, dial_batch, read_batch, summarize

    batch = read_batch(path)
    for note in batch.notes:
        app.warn(note)
    runs = dial_batch(app.client(), batch)
    hinted: set[str] = set()
    for run in runs:
        if not isinstance(run, RowError):
            _warn_collision(app, run)
        elif app.output != "github":  # there, the row's annotation says it
            written = app.text(run.hint)
            hint = f" ({written})" if written and written not in hinted else ""
            hinted.add(written)
            app.warn(run.error + hint)
    rows = [result_row(run) for run in runs]
    summary = summarize(runs)
    if app.output == "github":
        _batch_github(app, path, runs, rows, summary)
    else:
        doc = {"results": [run.to_json() for run in runs], "summary": summary}
        app.emit(doc, rows, TABLE_COLUMNS, csv=ROW_COLUMNS)
        app.say(dial_counts(summary), fg="red" if summary["failed"] else "green")
    app.exit(1 if summary["failed"] else 0)


def _batch_github(
    app: AppContext,
    path: str,
    runs: list[BatchRun],
    rows: list[dict[str, Any]],
    summary: dict[str, int],
) -> None:
    """An annotation on each row of FILE that failed its expectation (at its expect cell)
    or could not be dry-run (at its number cell), the counts as a notice, and the failed
    rows in the step summary."""
    located = [
        {**row, "column": _failed_column(row, run)} for row, run in zip(rows, runs, strict=True)
    ]
    for line in github.dial_commands(located, github.annotated_file(path), summary):
        app.out(line)
    app.step_summary(github.dial_summary(f"{command_words(None)} --batch {path}", located, summary))


def _failed_column(row: dict[str, Any], run: BatchRun) -> int | None:
    name = "number" if row["error"] else "expect" if run.request.expect else None
    return run.request.columns.get(name) if name else None


def result_row(run: BatchRun) -> dict[str, Any]:
    """One flat row per dry-run, for tables and CSV."""
    from aircall_ext.services.dial import RowError

    if isinstance(run, RowError):
        return _error_row(run)
    result, user = run.result, run.result.user
    return {
        "line": run.request.line,
        "number_id": result.number.id,
        "number": result.number.name or run.request.number,
        "routing": result.routing,
        "digits": result.digits,
        "stage": result.stage,
        "api_transfer": result.api_transfer,
        "outcome": result.outcome,
        "reaches_user": result.reaches_user,
        "user_id": user.id if user else None,
        "user_email": user.email if user else None,
        "caller_hears": result.caller_hears,
        "expect": run.request.expect,
        "passed": run.passed,
        "error": None,
        "result": "pass" if run.passed else "FAIL",
    }


def _error_row(run: RowError) -> dict[str, Any]:
    request = run.request
    return {
        **dict.fromkeys(ROW_COLUMNS.keys),
        "line": request.line,
        "number": request.number,
        "digits": request.digits,
        "stage": request.stage,
        "api_transfer": request.api_transfer,
        "reaches_user": False,
        "expect": request.expect,
        "passed": False,
        "error": run.error,
        "result": "ERROR",
    }


def render_trace(run: DialRun) -> str:
    """The checks as a numbered list an admin reads top to bottom, ending with the verdict."""
    from aircall_ext.core.dialing import ROUTING_LABEL, STAGE_LABEL

    result = run.result
    width = max(40, min(shutil.get_terminal_size().columns, 100))
    number = result.number.name or f"number {result.number.id}"
    where = f" ({result.number.digits})" if result.number.digits else ""
    transfer = ", in the ringing phase of a public-API transfer" if result.api_transfer else ""
    header = (
        f"Dialing {result.digits or '(nothing)'} on {number}{where}, "
        f"{ROUTING_LABEL[result.routing]}, during {STAGE_LABEL[result.stage]}{transfer}:"
    )
    lines = [_wrap(header, width, 4)]
    for index, check in enumerate(result.trace, 1):
        prefix = f"  {index}. {'ok  ' if check.ok else 'FAIL'} "
        lines.append(_wrap(f"{prefix}{check.check}: {check.detail}", width, len(prefix)))
    lines.append(_wrap(f"Caller hears: {result.caller_hears or '(nothing specific)'}", width, 4))
    lines.append(_wrap(f"Verdict: {result.verdict}", width, 4))
    if run.request.expect:
        met = "met" if run.passed else "NOT met"
        lines.append(f"Expected {run.request.expect}: {met}")
    return "\n".join(lines)


def _wrap(text: str, width: int, indent: int) -> str:
    return textwrap.fill(text, width, subsequent_indent=" " * indent, break_on_hyphens=False)


def _warn_collision(app: AppContext, run: DialRun) -> None:
    holders = run.result.collision
    if holders:
        app.warn(
            (
                f"extension {run.result.digits} is held by {len(holders)} users: "
                f"{listed(who(u) for u in holders)}; the dry-run follows the lowest id. Run ",
                Remedy("validate"),
                ".",
            )
        )
