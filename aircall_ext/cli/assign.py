"""``assign`` (one extension, safely) and ``next-free`` (free extensions, lowest first)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from aircall_ext.cli.completers import complete_users
from aircall_ext.cli.context import AppContext, output_option, with_app
from aircall_ext.cli.render import user_doc
from aircall_ext.core.extensions import extension_argument

if TYPE_CHECKING:
    from aircall_ext.api.models import User
    from aircall_ext.core.assign import AssignPlan
    from aircall_ext.core.freeext import ExtensionRange

STEP_COLUMNS = ["step", "user_id", "email", "from", "to"]
STEP_HEADERS = ["step", "user", "email", "from", "to"]


@click.command("assign")
@output_option
@click.argument("user", metavar="USER", shell_complete=complete_users)
@click.argument("extension", metavar="EXT")
@click.option(
    "--swap",
    is_flag=True,
    help="If EXT is taken, exchange extensions with its holder (3 writes, never a collision).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be written, and write nothing.")
@with_app
def assign(app: AppContext, user: str, extension: str, swap: bool, dry_run: bool) -> None:
    """USER is a user id (42), an email, or ext:NNN (the current holder of NNN). EXT is exactly
    three digits: 007 is not 7. A taken EXT is refused and its holder named, unless --swap:
    the holder is parked on the lowest free extension, USER takes EXT, and the holder takes
    USER's old extension. An EXT that another user's damaged value stands for (42 for 042)
    is refused too, naming the repair. Assigning the current value sends nothing.

    Exit 0 when done (or nothing to do), 1 when refused or rejected by the API, 2 for a bad
    EXT or a USER that names nobody (or several users).
    """
    from aircall_ext.core.account import damaged_match_note, parse_user_ref
    from aircall_ext.services.assign import apply_plan, prepare_assign

    wanted = _parse_ext(extension)
    ref = parse_user_ref(user)
    client = app.client()
    plan = prepare_assign(client, ref, wanted, swap=swap)
    if note := damaged_match_note(ref, plan.user, assigning=wanted):
        app.warn(note)
    for warning in plan.warnings:
        app.warn(warning)
    result = plan.user
    if plan.steps and not dry_run:
        result = apply_plan(client, plan)
    elif plan.steps:
        result = plan.user.model_copy(update={"extension": plan.to})
    app.say(_summary(plan, dry_run))
    _emit_plan(app, plan, result, dry_run)


def _parse_ext(text: str) -> str:
    return extension_argument(text, "EXT")


def _summary(plan: AssignPlan, dry_run: bool) -> str:
    """One line for people: what was (or would be) done."""
    from aircall_ext.core.findings import who

    name = who(plan.user)
    if not plan.steps:
        return f"{name} already has extension {plan.to}: nothing to do"
    verb = "would " if dry_run else ""
    was = f" (was {plan.from_})" if plan.from_ is not None else ""
    if plan.holder is None:
        return f"{verb}{'assign' if dry_run else 'assigned'} {plan.to} to {name}{was}"
    swapped = "swap" if dry_run else "swapped"
    return (
        f"{verb}{swapped} extensions: {name} {plan.from_} -> {plan.to}, {who(plan.holder)} "
        f"{plan.to} -> {plan.from_} (parked on {plan.parking} in between)"
    )


def _emit_plan(app: AppContext, plan: AssignPlan, result: User, dry_run: bool) -> None:
    steps = [
        {"user_id": s.user_id, "email": plan.user_of(s).email, "from": s.from_ext, "to": s.to_ext}
        for s in plan.steps
    ]
    holder = plan.holder
    doc: dict[str, Any] = {
        "user": user_doc(result),
        "from": plan.from_,
        "to": plan.to,
        "changed": bool(steps),
        "swapped_with": None
        if holder is None
        else {"id": holder.id, "email": holder.email, "from": plan.to, "to": plan.from_},
        "steps": steps,
        "dry_run": dry_run,
    }
    rows = [{"step": i, **step} for i, step in enumerate(steps, start=1)]
    if rows or app.output != "table":  # a no-op is told on stderr; no empty table
        app.emit(doc, rows, STEP_COLUMNS, headers=STEP_HEADERS)


def _parse_range(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> ExtensionRange | None:
    if value is None:
        return None
    from aircall_ext.core.freeext import parse_range

    try:
        return parse_range(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


@click.command("next-free")
@output_option
@click.option(
    "--count",
    metavar="N",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="How many free extensions to list.",
)
@click.option(
    "--range",
    "extension_range",
    metavar="A-B",
    callback=_parse_range,
    help="Only extensions from A to B inclusive, e.g. 200-299 [default: 100-999, then 000-099].",
)
@with_app
def next_free(app: AppContext, count: int, extension_range: ExtensionRange | None) -> None:
    """Without --range, 100-999 come first and 000-099 last. An extension whose holder has a
    damaged value (7 standing for 007) is not offered.

    Exit 0 when N were found; 1 when fewer are free (those are still printed).
    """
    from aircall_ext.core.freeext import DEFAULT_ORDER
    from aircall_ext.services.assign import find_free

    candidates = extension_range.candidates() if extension_range else DEFAULT_ORDER
    free = find_free(app.client(), count, candidates)
    where = f"in {extension_range}" if extension_range else "in the account"
    app.emit(
        {"free": free},
        [{"extension": e} for e in free],
        ["extension"],
        empty=f"no free extension {where}",
    )
    if len(free) < count:
        if free:
            app.warn(f"only {len(free)} of the {count} requested are free {where}")
        click.get_current_context().exit(1)
