"""``validate``: audit the account, or a CSV against it (or alone, ``--offline``)."""

from __future__ import annotations

import click

from aircall_ext.cli.context import AppContext, github_output_option, numbering_option, with_app
from aircall_ext.cli.render import emit_findings, emit_offline_findings
from aircall_ext.errors import UsageError


@click.command("validate")
@github_output_option()
@click.argument(
    "file",
    nargs=-1,
    type=click.Path(exists=True, dir_okay=False, allow_dash=True),
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too, not only errors.")
@click.option(
    "--offline",
    is_flag=True,
    help=(
        "Check FILE alone: no account, no credentials, no request (format, duplicates within "
        "the file, and with a plan reserved and out-of-plan targets). Takes several FILEs, "
        "as a pre-commit hook passes them."
    ),
)
@numbering_option
@with_app
def validate(app: AppContext, file: tuple[str, ...], strict: bool, offline: bool) -> None:
    """Audit the account's extensions, or check a CSV (FILE, - for stdin) against the account.

    Without FILE: collisions (every holder named), malformed extensions, users without an
    extension, and outgoing-only users whose extension is dead.

    With a numbering plan (--numbering FILE, AIRCALL_EXT_NUMBERING or the profile's
    numbering), also users outside their team's ranges (out-of-range), on a reserved
    extension (reserved-extension), plan teams the account lacks (unknown-team) and ranges
    with no free extension (range-full), all warnings; with FILE, each row's target is
    judged the same way.

    Exit 0 when nothing is wrong (warnings allowed), 1 on errors, or on warnings with --strict.
    """
    if offline:
        _validate_offline(app, file, strict)
        return
    if len(file) > 1:
        raise UsageError(
            "validate checks one FILE against the account",
            hint="run it once per file, or add --offline to check several without the account",
        )
    path = file[0] if file else None
    plan = app.plan()
    if path is None:
        if plan is None:
            from aircall_ext.services.audit import audit

            findings = audit(app.client())
        else:
            from aircall_ext.services.numbering import audit_with_plan

            findings = audit_with_plan(app.client(), plan)
        clean = "no findings: the account is clean"
    else:
        if plan is None:
            from aircall_ext.services.csvcheck import validate_file

            findings = validate_file(app.client(), path)
        else:
            from aircall_ext.services.numbering import validate_file_with_plan

            findings = validate_file_with_plan(app.client(), path, plan)
        clean = f"no findings: {path} is consistent with the account"
    app.exit(emit_findings(app, findings, strict=strict, clean=clean, source=path))


def _validate_offline(app: AppContext, files: tuple[str, ...], strict: bool) -> None:
    """Each FILE on its own: nothing here may read credentials or reach the API."""
    from aircall_ext.services.numbering import validate_offline

    if not files:
        raise UsageError("--offline checks a FILE: name one or more CSV files")
    plan = app.plan()
    checked = [(file, validate_offline(file, plan)) for file in files]
    app.exit(emit_offline_findings(app, checked, strict=strict))
