"""GitHub Actions output, without I/O: workflow commands as the runner parses them, and the
Markdown of the step summary."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from aircall_ext import github
from aircall_ext.cli.bulk import DRIFT_COLUMNS as DRIFT
from aircall_ext.cli.render import PLAN_COLUMNS as PLAN
from aircall_ext.columns import Columns
from aircall_ext.core.findings import Finding

# -- the runner's side ---------------------------------------------------------------------

_UNESCAPE = {"%25": "%", "%0D": "\r", "%0A": "\n", "%3A": ":", "%2C": ","}


def unescape(text: str) -> str:
    return re.sub("%25|%0D|%0A|%3A|%2C", lambda m: _UNESCAPE[m.group()], text)


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command read back the way the Actions runner reads one: ``::`` at the
    start, the next ``::`` ends the command part, properties split on ``,`` then on the
    first ``=``."""
    assert line.startswith("::")
    end = line.index("::", 2)
    name, _, props = line[2:end].partition(" ")
    properties = {}
    for pair in filter(None, props.split(",")):
        key, _, value = pair.partition("=")
        properties[key] = unescape(value)
    return name, properties, unescape(line[end + 2 :])


# -- escaping ------------------------------------------------------------------------------


def test_escaping_examples() -> None:
    assert github.escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert github.escape_property("a,b: 100%\n") == "a%2Cb%3A 100%25%0A"
    assert github.escape_data("%0A") == "%250A"  # already-escaped text stays itself


@given(st.text())
def test_any_message_round_trips(text: str) -> None:
    escaped = github.escape_data(text)
    assert "\r" not in escaped and "\n" not in escaped
    assert unescape(escaped) == text


@given(st.text())
def test_any_property_round_trips(text: str) -> None:
    escaped = github.escape_property(text)
    assert not set(escaped) & set("\r\n:,")
    assert unescape(escaped) == text


@given(
    level=st.sampled_from(["error", "warning", "notice"]),
    message=st.text(),
    file=st.text(min_size=1),
    line=st.integers(min_value=1),
    col=st.integers(min_value=1),
    title=st.text(min_size=1),
)
def test_any_command_is_one_line_the_runner_reads_back(
    level: github.Level, message: str, file: str, line: int, col: int, title: str
) -> None:
    command = github.workflow_command(level, message, file=file, line=line, col=col, title=title)
    assert "\r" not in command and "\n" not in command
    assert parse(command) == (
        level,
        {"file": file, "line": str(line), "col": str(col), "title": title},
        message,
    )


def test_properties_left_out_when_absent() -> None:
    assert github.workflow_command("error", "m") == "::error::m"
    assert github.workflow_command("notice", "m", title="t") == "::notice title=t::m"
    # A line without a file points nowhere: dropped, like a column without a line.
    assert github.workflow_command("error", "m", line=3, col=2) == "::error::m"
    assert github.workflow_command("error", "m", file="f.csv", col=2) == "::error file=f.csv::m"


def test_annotated_file_keeps_relative_paths_relative() -> None:
    assert github.annotated_file("extensions.csv") == "extensions.csv"
    assert github.annotated_file("./team/../extensions.csv") == "extensions.csv"
    assert github.annotated_file("config/extensions.csv") == "config/extensions.csv"
    assert github.annotated_file("/work/extensions.csv") == "/work/extensions.csv"
    assert github.annotated_file("-") is None
    assert github.annotated_file(None) is None


# -- findings, drift, dial, plan -----------------------------------------------------------


def finding(code: str, severity: str, message: str, **extra: Any) -> Finding:
    made = Finding(code, message, **extra)
    assert made.severity == severity  # the code decides it
    return made


def test_findings_map_severities_and_locate_file_findings_only() -> None:
    findings = [
        finding("duplicate-extension-in-file", "error", "f.csv:3:2: 300 twice", line=3, column=2),
        finding("outgoing-only", "warning", "dead", user_id=4, email="dee@example.com"),
        finding("outgoing-only-unknown", "info", "not reported"),
        finding("bad-header", "error", "f.csv:1: no extension column", line=1, column=None),
    ]
    assert github.finding_commands(findings, "f.csv") == [
        "::error file=f.csv,line=3,col=2,title=duplicate-extension-in-file::f.csv:3:2: 300 twice",
        "::warning title=outgoing-only::user 4 (dee@example.com): dead",
        "::notice title=outgoing-only-unknown::not reported",
        "::error file=f.csv,line=1,title=bad-header::f.csv:1: no extension column",
    ]
    # Standard input: nothing to point at, the message still says where.
    assert github.finding_commands(findings[:1], None) == [
        "::error title=duplicate-extension-in-file::f.csv:3:2: 300 twice"
    ]


def test_an_account_finding_that_names_its_user_already_is_not_prefixed_again() -> None:
    findings = [
        # A user with neither email nor name is "user 42", then a comma.
        finding("out-of-range", "warning", "user 42, in team Sales, holds 700", user_id=42),
        finding("reserved-extension", "warning", "user 7 (ann) holds 911", user_id=7),
        # Another user's number only starts the same way.
        finding("outgoing-only", "warning", "user 42 is outgoing-only", user_id=4),
    ]
    assert github.finding_commands(findings, None) == [
        "::warning title=out-of-range::user 42, in team Sales, holds 700",
        "::warning title=reserved-extension::user 7 (ann) holds 911",
        "::warning title=outgoing-only::user 4: user 42 is outgoing-only",
    ]


def test_drift_rows() -> None:
    drift = [
        {"line": 3, "user_id": 2, "email": "bob@example.com", "expected": "202", "actual": "102"},
        {"line": 4, "user_id": 3, "email": None, "expected": "103", "actual": None},
    ]
    assert github.drift_commands(drift, "d.csv") == [
        "::error file=d.csv,line=3,title=drift::user 2 (bob@example.com) has 102, "
        "the file wants 202",
        "::error file=d.csv,line=4,title=drift::user 3 has no extension, the file wants 103",
    ]


def dial_row(line: int, passed: bool, **extra: object) -> dict[str, object]:
    return {
        "line": line,
        "number": "Support",
        "digits": "101",
        "stage": "ivr",
        "api_transfer": False,
        "outcome": "rings-user",
        "expect": None,
        "passed": passed,
        **extra,
    }


def test_dial_rows_failed_only_then_the_counts() -> None:
    rows = [
        dial_row(2, True),
        dial_row(3, False, outcome="stage-not-accepting", expect="rings-user", column=5),
        dial_row(4, False, outcome="api-transfer", api_transfer=True),
        dial_row(
            5, False, outcome=None, error="must-ring.csv:5:1: NUMBER 'X' is unknown", column=1
        ),
    ]
    counts = {"rows": 4, "passed": 1, "failed": 3, "errors": 1}
    assert github.dial_commands(rows, "must-ring.csv", counts) == [
        "::error file=must-ring.csv,line=3,col=5,title=dial-expectation::dialing 101 on Support "
        "during ivr: expected rings-user, got stage-not-accepting",
        "::error file=must-ring.csv,line=4,title=dial-expectation::dialing 101 on Support "
        "during ivr, in an API transfer: expected the call to reach a user, got api-transfer",
        "::error file=must-ring.csv,line=5,col=1,title=dial-row::must-ring.csv:5:1: NUMBER 'X' is "
        "unknown",
        "::notice title=dial --batch::4 row(s): 1 passed, 3 failed (1 could not be dry-run)",
    ]


def test_plan_notice() -> None:
    counts = "3 unchanged, 1 assign, 2 change, 0 skip; 1 write"
    assert github.plan_notice(counts) == f"::notice title=import plan::{counts}"


# -- Markdown ------------------------------------------------------------------------------


def test_markdown_text_examples() -> None:
    assert github.md_text("a|b") == "a\\|b"
    assert github.md_text("x\\|y") == "x\\\\\\|y"  # the backslash cannot escape the pipe
    assert github.md_text("one\r\ntwo\nthree\rfour") == "one<br>two<br>three<br>four"
    assert github.md_text("<b>Ann</b> & *co*") == "\\<b\\>Ann\\</b\\> \\& \\*co\\*"
    assert github.md_text(None) == "" and github.md_text(True) == "yes"
    assert github.md_text("007") == "007"


def md_unescape(text: str) -> str:
    return re.sub(r"\\(.)|<br>", lambda m: m.group(1) or "\n", text)


@given(st.text())
def test_any_cell_stays_one_cell_and_reads_back(text: str) -> None:
    cell = github.md_text(text)
    assert "\r" not in cell and "\n" not in cell
    # Once every backslash pair and line break is taken out, no markup character is bare.
    assert not set(re.sub(r"\\.|<br>", "", cell)) & set("\\`*_[]<>|~&")
    assert md_unescape(cell) == text.replace("\r\n", "\n").replace("\r", "\n")


def test_table_is_cut_at_the_limit() -> None:
    rows = [{"n": n} for n in range(5)]
    assert github.md_table(rows, Columns.of("n"), limit=3) == [
        "| n |",
        "|---|",
        "| 0 |",
        "| 1 |",
        "| 2 |",
        "",
        "and 2 more",
    ]
    assert github.md_table(rows[:3], Columns.of("n"), limit=3)[-1] == "| 2 |"


def test_findings_summary_of_a_file() -> None:
    findings = [
        finding(
            "unknown-user", "error", "f.csv:2:1: no user with id 9", line=2, column=1, user_id=9
        ),
        finding("blank-extension", "info", "f.csv:3:2: blank", line=3, column=2),
    ]
    assert github.findings_summary("aircall-ext validate f.csv", findings) == (
        "### aircall-ext validate f.csv\n"
        "\n"
        "Findings: 1 error, 0 warnings, 1 info\n"
        "\n"
        "| severity | code | line | col | user | email | message |\n"
        "|---|---|---|---|---|---|---|\n"
        "| error | unknown-user | 2 | 1 | 9 |  | f.csv:2:1: no user with id 9 |\n"
        "\n"
    )


def test_findings_summary_of_the_account_has_no_line_columns() -> None:
    findings = [finding("missing-extension", "warning", "no extension", user_id=7, email="g@x")]
    assert github.findings_summary("aircall-ext validate", findings).splitlines()[4:-1] == [
        "| severity | code | user | email | message |",
        "|---|---|---|---|---|",
        "| warning | missing-extension | 7 | g@x | no extension |",
    ]
    assert github.findings_summary("aircall-ext validate", []) == (
        "### aircall-ext validate\n\nFindings: 0 errors, 0 warnings, 0 infos\n\n"
    )


def test_plan_summary() -> None:
    plan = [
        {
            "line": 2,
            "user_id": 1,
            "email": "a|b@example.com",
            "from": "101",
            "to": "102",
            "action": "change",
        },
        {"line": 3, "user_id": 2, "email": None, "from": None, "to": "007", "action": "assign"},
    ]
    counts = "0 unchanged, 1 assign, 1 change, 0 skip; 2 writes"
    summary = github.plan_summary("aircall-ext import f.csv --dry-run", plan, PLAN, counts, [])
    assert summary == (
        "### aircall-ext import f.csv --dry-run\n"
        "\n"
        "Plan: 0 unchanged, 1 assign, 1 change, 0 skip; 2 writes\n"
        "\n"
        "Findings: 0 errors, 0 warnings, 0 infos\n"
        "\n"
        "| line | user | email | from | to | action |\n"
        "|---|---|---|---|---|---|\n"
        "| 2 | 1 | a\\|b@example.com | 101 | 102 | change |\n"
        "| 3 | 2 |  |  | 007 | assign |\n"
        "\n"
    )


def test_drift_and_dial_summaries() -> None:
    drift = [{"line": 3, "user_id": 2, "email": "b@x", "expected": "202", "actual": "102"}]
    summary = {"drifted": 1, "in_sync": 4, "blank": 0}
    assert github.drift_summary("aircall-ext diff d.csv", drift, DRIFT, summary, []) == (
        "### aircall-ext diff d.csv\n\nDrift: 1 drifted, 4 in sync, 0 blank\n\n"
        "| line | user | email | expected | actual |\n|---|---|---|---|---|\n"
        "| 3 | 2 | b@x | 202 | 102 |\n\n"
    )
    rows = [dial_row(2, True), dial_row(3, False, outcome="user-unavailable")]
    counts = {"rows": 2, "passed": 1, "failed": 1}
    assert github.dial_summary("aircall-ext dial --batch m.csv", rows, counts) == (
        "### aircall-ext dial --batch m.csv\n\nDial: 2 row(s): 1 passed, 1 failed\n\n"
        "| line | number | digits | stage | API transfer | outcome | expected |\n"
        "|---|---|---|---|---|---|---|\n"
        "| 3 | Support | 101 | ivr | no | user-unavailable |  |\n\n"
    )
