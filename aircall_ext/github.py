"""GitHub Actions output: workflow commands for the log, Markdown for the step summary.

``-o github`` prints one workflow command per finding (``::error file=F,line=L,col=C,
title=CODE::message``), which the runner turns into an annotation on the pull request's
diff, and appends a short Markdown summary to the file ``$GITHUB_STEP_SUMMARY`` names.
Everything here is pure: findings and plain rows (the commands' JSON rows) in, lines and
text out. How counts read is the people's output's (:mod:`aircall_ext.output`): a summary
says them the same way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from aircall_ext.columns import Columns
from aircall_ext.core.findings import Finding, summarize, who_is
from aircall_ext.output import dial_counts, drift_counts, severity_counts

Level = Literal["error", "warning", "notice"]

LEVEL: dict[str, Level] = {"error": "error", "warning": "warning", "info": "notice"}

# A summary table shows at most this many rows, then says how many more there are (the
# log keeps every annotation).
TABLE_LIMIT = 100

# -- workflow commands -----------------------------------------------------------------

# The runner reads one command per line and splits properties on "," and the property
# list from the message on "::": so these are percent-encoded, "%" first.
_DATA = {"%": "%25", "\r": "%0D", "\n": "%0A"}
_PROPERTY = {**_DATA, ":": "%3A", ",": "%2C"}


def escape_data(text: str) -> str:
    """The message of a workflow command: ``%``, CR and LF encoded."""
    return "".join(_DATA.get(char, char) for char in text)


def escape_property(text: str) -> str:
    """A property value (file, title): as a message, and ``:`` and ``,`` too."""
    return "".join(_PROPERTY.get(char, char) for char in text)


def workflow_command(
    level: Level,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    col: int | None = None,
    title: str | None = None,
) -> str:
    """One line: ``::error file=F,line=L,col=C,title=T::message`` (absent properties left
    out; a line or column without a file means nothing to GitHub, so it is dropped)."""
    properties: list[tuple[str, str]] = []
    if file is not None:
        properties.append(("file", file))
        if line is not None:
            properties.append(("line", str(line)))
            if col is not None:
                properties.append(("col", str(col)))
    if title is not None:
        properties.append(("title", title))
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{level}{' ' + props if props else ''}::{escape_data(message)}"


def annotated_file(path: str | None) -> str | None:
    """The file property for a CSV named on the command line: relative paths stay relative
    (GitHub maps them onto the pull request's files from the checkout's root), ``./`` and
    the like are tidied away; standard input has no file to point at."""
    if path is None or path == "-":
        return None
    return path if os.path.isabs(path) else os.path.normpath(path)


def finding_commands(findings: Iterable[Finding], file: str | None) -> list[str]:
    """One command per finding: errors, warnings, and infos as notices. A finding of the
    file (it has a line) points at FILE:LINE:COLUMN; one about the account names its user,
    which a table would show in a column of its own."""
    lines = []
    for finding in findings:
        message, user_id = finding.message, finding.user_id
        located = finding.line is not None
        if not located and user_id is not None and not _names_user(message, user_id):
            message = f"{who_is(user_id, finding.email)}: {message}"
        lines.append(
            workflow_command(
                LEVEL[finding.severity],
                message,
                file=file if located else None,
                line=finding.line,
                col=finding.column,
                title=finding.code,
            )
        )
    return lines


def _names_user(message: str, user_id: int) -> bool:
    """Whether ``message`` starts by naming the user (``user 42 (ann@...)``, ``user 42,``),
    as messages about one user do; ``user 420`` is another user."""
    return re.match(rf"user {user_id}(?!\d)", message) is not None


def _user(row: Mapping[str, Any]) -> str:
    """``user 2 (bob@example.com)``, or ``user 2`` when the email is unknown."""
    return who_is(row["user_id"], row.get("email"))


def drift_message(row: Mapping[str, Any]) -> str:
    """``user 2 (bob@example.com) has 102, the file wants 202`` for a drift row."""
    actual = row.get("actual")
    has = f"has {actual}" if actual is not None else "has no extension"
    return f"{_user(row)} {has}, the file wants {row['expected']}"


def drift_commands(drift: Iterable[Mapping[str, Any]], file: str | None) -> list[str]:
    return [
        workflow_command("error", drift_message(row), file=file, line=row["line"], title="drift")
        for row in drift
    ]


def dial_message(row: Mapping[str, Any]) -> str:
    """What a failed dial row expected and what it got, for a dial result row."""
    transfer = ", in an API transfer" if row.get("api_transfer") else ""
    expected = row.get("expect") or "the call to reach a user"
    return (
        f"dialing {row['digits']} on {row['number']} during {row['stage']}{transfer}: "
        f"expected {expected}, got {row['outcome']}"
    )


def dial_commands(
    rows: Iterable[Mapping[str, Any]], file: str | None, counts: Mapping[str, int]
) -> list[str]:
    """One error per row that failed its expectation or could not be dry-run (its
    ``error``), at the row's ``column``, then the pass/fail counts."""
    lines = [
        workflow_command(
            "error",
            row.get("error") or dial_message(row),
            file=file,
            line=row.get("line"),
            col=row.get("column"),
            title="dial-row" if row.get("error") else "dial-expectation",
        )
        for row in rows
        if not row["passed"]
    ]
    lines.append(workflow_command("notice", dial_counts(counts), title="dial --batch"))
    return lines


def plan_notice(counts: str) -> str:
    """The plan's count line (``Plan.counts_line``) as a notice."""
    return workflow_command("notice", counts, title="import plan")


# -- step summary (Markdown) -----------------------------------------------------------

# Characters that would start markup (emphasis, code, links, HTML, table cells): each is
# backslash-escaped, which CommonMark allows for any ASCII punctuation.
_MARKUP = frozenset("\\`*_[]<>|~&")


def md_text(value: Any) -> str:
    """``value`` as literal Markdown text on one line (a table cell, a heading)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    escaped = "".join("\\" + char if char in _MARKUP else char for char in text)
    return escaped.replace("\n", "<br>")


def md_table(
    rows: Sequence[Mapping[str, Any]], columns: Columns, *, limit: int = TABLE_LIMIT
) -> list[str]:
    """A Markdown table of the first ``limit`` rows, then "and N more" when cut."""
    lines = [
        "| " + " | ".join(md_text(h) for h in columns.headers) + " |",
        "|" + "---|" * len(columns),
    ]
    for row in rows[:limit]:
        lines.append("| " + " | ".join(md_text(row.get(key)) for key in columns.keys) + " |")
    if len(rows) > limit:
        lines += ["", f"and {len(rows) - limit} more"]
    return lines


FINDINGS = Columns.of(
    "severity", "code", "line", ("column", "col"), ("user_id", "user"), "email", "message"
)


def _findings_section(findings: Sequence[Finding]) -> list[str]:
    """The counts of every severity, and a table of the errors and warnings (infos are
    counted only: they are in the log, and an import's plan shows the rows they are on)."""
    lines = [f"Findings: {severity_counts(summarize(findings))}"]
    shown = [f for f in findings if f.severity != "info"]
    if shown:
        # Line and column only when a finding comes from a file, as in the table output.
        located = any(f.line is not None for f in shown)
        columns = FINDINGS if located else FINDINGS.without("line", "column")
        lines += ["", *md_table([f.to_json() for f in shown], columns)]
    return lines


def _heading(command: str) -> list[str]:
    return [f"### {md_text(command)}", ""]


def _block(lines: list[str]) -> str:
    """A summary block: its lines, and a blank line to keep the next block apart."""
    return "\n".join(lines) + "\n\n"


def findings_summary(command: str, findings: Sequence[Finding]) -> str:
    """``validate`` (and an import refused for its file's errors)."""
    return _block([*_heading(command), *_findings_section(findings)])


def plan_summary(
    command: str,
    plan: Sequence[Mapping[str, Any]],
    columns: Columns,
    counts: str,
    findings: Sequence[Finding],
) -> str:
    """``import --dry-run``: the plan's count line and table (the terminal's ``columns``),
    and the findings."""
    lines = [*_heading(command), f"Plan: {md_text(counts)}", ""]
    lines += [*_findings_section(findings), ""]
    lines += md_table(plan, columns)
    return _block(lines)


def drift_summary(
    command: str,
    drift: Sequence[Mapping[str, Any]],
    columns: Columns,
    summary: Mapping[str, int],
    findings: Sequence[Finding],
) -> str:
    """``diff``: the counts, the drifted rows (the terminal's ``columns``), and any error in
    the file."""
    lines = [*_heading(command), f"Drift: {drift_counts(summary)}"]
    if findings:
        lines += ["", *_findings_section(findings)]
    if drift:
        lines += ["", *md_table(drift, columns)]
    return _block(lines)


# The failed rows of a batch: what was dialed, and what was expected of it.
DIAL = Columns.of(
    "line",
    "number",
    "digits",
    "stage",
    ("api_transfer", "API transfer"),
    "outcome",
    ("expect", "expected"),
)


def dial_summary(command: str, rows: Sequence[Mapping[str, Any]], counts: Mapping[str, int]) -> str:
    """``dial --batch``: the counts and the rows that failed their expectation."""
    lines = [*_heading(command), f"Dial: {dial_counts(counts)}"]
    failed = [row for row in rows if not row["passed"]]
    if failed:
        columns = Columns.of(*DIAL, "error") if any(row.get("error") for row in failed) else DIAL
        lines += ["", *md_table(failed, columns)]
    return _block(lines)
