"""``validate``: audit the account, or a CSV against it."""

from __future__ import annotations

import click

from aircall_ext.cli.context import AppContext, github_output_option, with_app
from aircall_ext.cli.render import emit_findings


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
        from aircall_ext.services.csvcheck import validate_file

        findings = validate_file(app.client(), file)
        clean = f"no findings: {file} is consistent with the account"
    code = emit_findings(app, findings, strict=strict, clean=clean, source=file)
    if code:
        click.get_current_context().exit(code)
