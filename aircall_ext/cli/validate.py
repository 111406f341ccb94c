"""``validate``: audit the account, or a CSV against it; and the one findings renderer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from aircall_ext.cli.context import AppContext, github_output_option, with_app

if TYPE_CHECKING:
    from aircall_ext.core.findings import Finding
    from aircall_ext.services.importer import Prepared

TABLE_COLUMNS = ["severity", "code", "user_id", "email", "extension", "message"]
TABLE_HEADERS = ["severity", "code", "user", "email", "ext", "message"]
CSV_COLUMNS = [*TABLE_COLUMNS, "line", "column"]  # fixed for scripts, CSV input or not


def finding_rows(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    return [{**f.to_json(), "line": f.line, "column": f.column} for f in findings]


def findings_document(findings: Sequence[Finding]) -> dict[str, Any]:
    """SPEC §4: ``{"findings": [...], "summary": {"errors", "warnings", "infos"}}``."""
    from aircall_ext.core.findings import summarize

    return {"findings": [f.to_json() for f in findings], "summary": summarize(findings)}


def findings_exit_code(findings: Sequence[Finding], *, strict: bool = False) -> int:
    """1 on errors (and on warnings with ``--strict``), else 0."""
    from aircall_ext.core.findings import has_failures

    return 1 if has_failures(findings, strict=strict) else 0


def emit_findings(
    app: AppContext,
    findings: Sequence[Finding],
    *,
    strict: bool = False,
    clean: str = "no findings",
    source: str | None = None,
) -> int:
    """Render findings in the run's format and return the exit code they deserve.

    Shared by ``validate`` and ``import --dry-run`` so findings look the same everywhere.
    The table gains line/column columns only when a finding comes from a file; ``source``
    (the CSV as named on the command line) is where GitHub annotations point.
    """
    from aircall_ext.core.findings import summarize

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
        counts = summarize(findings)
        app.say(
            ", ".join(_plural(counts[key], key[:-1]) for key in ("errors", "warnings", "infos"))
        )
    return findings_exit_code(findings, strict=strict)


def emit_github_findings(
    app: AppContext, findings: Sequence[Finding], source: str | None, *, clean: str
) -> None:
    from aircall_ext import github

    docs = [f.to_json() for f in findings]
    for line in github.finding_commands(docs, github.annotated_file(source)):
        click.echo(line)
    if not findings:
        app.say(clean)
    app.step_summary(github.findings_summary(command_words(source), docs))


def emit_github_plan(app: AppContext, prepared: Prepared) -> None:
    """``import --dry-run``: the findings as annotations on the file, the plan's counts as a
    notice, and the plan table in the step summary."""
    from aircall_ext import github

    assert prepared.plan is not None
    findings = [f.to_json() for f in prepared.findings]
    summary = prepared.plan.summary()
    for line in github.finding_commands(findings, github.annotated_file(prepared.source.shown)):
        click.echo(line)
    click.echo(github.plan_notice(summary))
    plan = [row.to_json() for row in prepared.plan.rows]
    heading = command_words(prepared.source.shown)
    app.step_summary(github.plan_summary(heading, plan, summary, findings))


def command_words(source: str | None) -> str:
    """The running command as a summary heading names it: ``aircall-ext import FILE
    --dry-run`` (the options that change what it reports, not every one)."""
    ctx = click.get_current_context()
    words = [ctx.command_path, *([source] if source else [])]
    words += [
        f"--{name.replace('_', '-')}" for name in ("dry_run", "strict") if ctx.params.get(name)
    ]
    return " ".join(words)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@click.command("validate")
@github_output_option()
@click.argument(
    "file",
    required=False,
    type=click.Path(exists=True, dir_okay=False, allow_dash=True),
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too, not only errors.")
@with_app
def validate(app: AppContext, file: str | None, strict: bool) -> None:
    """Without FILE: collisions (every holder named), malformed extensions, users without an
    extension, and outgoing-only users whose extension is dead.

    Exit 0 when nothing is wrong (warnings allowed), 1 on errors, or on warnings with --strict.
    """
    if file is None:
        from aircall_ext.services.audit import audit

        findings = audit(app.client())
        clean = "no findings: the account is clean"
    else:
        from pathlib import Path

        from aircall_ext.services.csvcheck import validate_file

        findings = validate_file(app.client(), "-" if file == "-" else Path(file))
        clean = f"no findings: {file} is consistent with the account"
    code = emit_findings(app, findings, strict=strict, clean=clean, source=file)
    if code:
        click.get_current_context().exit(code)
